namespace BulkCampaigns.Tests.Dispatch;

/// <summary>
/// Test classes whose assertions are about time as well as counts (a pace never above the MPS, a pause that stops sends
/// within a moment, a rate limit's refill a second later): they run one after another, after the parallel tests and
/// beside none of them, so the rest of the suite's load does not decide them. Other classes that host the app run in
/// parallel: each app has its own Hangfire storage and activator (Jobs/JobsSetup.cs), so side-by-side apps never run
/// each other's jobs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DispatchAppsCollection
{
    public const string Name = "Dispatch apps";
}
