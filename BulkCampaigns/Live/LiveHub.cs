using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace BulkCampaigns.Live;

/// <summary>
/// Tells watchers that something they look at changed; they read the new state from the database,
/// which stays the truth (a message only says "look again", so one lost message costs nothing).
/// </summary>
[Authorize(Policy = LiveSetup.HubPolicy)]
public sealed class LiveHub : Hub
{
    public const string Path = "/hubs/live";
    public const string ChangedMethod = "Changed";

    public Task Watch(string topic) => Groups.AddToGroupAsync(Context.ConnectionId, topic);

    public Task Unwatch(string topic) => Groups.RemoveFromGroupAsync(Context.ConnectionId, topic);
}

/// <summary>Names of what can be watched.</summary>
public static class LiveTopics
{
    /// <summary>Any operation was created or changed status (the campaigns list, the home dashboard).</summary>
    public const string Operations = "operations";

    public static string Operation(string operationId) => "operation:" + operationId;

    /// <summary>An import into the group started, progressed or ended (the group page).</summary>
    public static string Imports(string groupId) => "imports:" + groupId;
}
