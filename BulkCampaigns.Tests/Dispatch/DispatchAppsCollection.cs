namespace BulkCampaigns.Tests.Dispatch;

/// <summary>
/// Hangfire keeps its storage in a process-wide static (JobStorage.Current): two in-process apps started
/// at the same moment can pick up each other's storage and run each other's jobs. The dispatch test
/// classes that host the app run one after another.
/// </summary>
[CollectionDefinition(Name)]
public sealed class DispatchAppsCollection
{
    public const string Name = "Dispatch apps";
}
