using BulkCampaigns.Api;
using BulkCampaigns.Auth;
using BulkCampaigns.Dispatch;

namespace BulkCampaigns.Operating;

/// <summary>A node in <c>GET /v1/Nodes</c>: an app process sharing this database; times on the database's clock.</summary>
public sealed record NodeDto(string Name, DateTime StartedAt, DateTime LastSeenAt, int ActiveBatches);

public sealed record NodeList(IReadOnlyList<NodeDto> Nodes);

/// <summary><c>GET /v1/Nodes</c> (admin): the app processes sharing this database, from their heartbeats.</summary>
public static class NodesApi
{
    public static RouteGroupBuilder MapNodesApi(this RouteGroupBuilder v1)
    {
        v1.MapGet("/Nodes", async (IEngineStore store, CancellationToken ct) =>
        {
            var nodes = await store.ListNodesAsync(ct);
            return Results.Ok(new NodeList(nodes.Select(n => new NodeDto(n.Name, n.StartedAt.UtcDateTime, n.LastSeenAt.UtcDateTime, n.ActiveBatches)).ToList()));
        }).RequireAuthorization(AuthSetup.ApiAdminPolicy).WithTags("Nodes").Produces<NodeList>().Describes("ListNodes", "List the app processes sharing this database");
        return v1;
    }
}
