namespace BulkCampaigns.Tests.Dispatch;

/// <summary>
/// Hangfire keeps its storage in a process-wide static (JobStorage.Current): two in-process apps started
/// at the same moment can pick up each other's storage and run each other's jobs (seen as an operation
/// that never progresses). The dispatch test classes that host the app run one after another, and not
/// beside any other test collection.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DispatchAppsCollection
{
    public const string Name = "Dispatch apps";
}
