namespace BulkCampaigns.Tests.Dispatch;

/// <summary>
/// Test classes that must have the process to themselves: those whose assertions are about time as well as counts (a
/// pace never above the MPS, a pause that stops sends within a moment, a rate limit's refill a second later), so the
/// rest of the suite's load does not decide them, and the metrics tests (OpenTelemetry's listener hears every meter of
/// the app's name in the process, so an app beside them would be read too). They run one after another, after the
/// parallel tests. Other classes that host the app run in parallel: each app has its own Hangfire storage and
/// activator (Jobs/JobsSetup.cs), so side-by-side apps never run each other's jobs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DispatchAppsCollection
{
    public const string Name = "Dispatch apps";
}
