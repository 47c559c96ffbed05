namespace BulkCampaigns.Tests.Infrastructure;

/// <summary>
/// The <c>Database</c> trait: which tests <c>.ci/run</c>'s PostgreSQL pass (the suite again with
/// <c>BULKCAMPAIGNS_TEST_PROVIDER=Postgres</c>) leaves out. A test class without it follows the provider switch and runs
/// on both providers in CI; mark a class only when running it again on PostgreSQL would prove nothing new.
/// </summary>
public static class DatabaseTrait
{
    public const string Name = "Database";

    /// <summary>Runs on no app database the switch could change (logic, bUnit on fakes, a SQLite file of its own).</summary>
    public const string None = "None";

    /// <summary>What only SQLite has by nature (its file, its backup, its pragmas and WAL); PostgreSQL's side has its own tests.</summary>
    public const string SqliteOnly = "SqliteOnly";

    /// <summary>Chooses its providers itself and already runs on each (a theory over both, or a class with its PostgreSQL twin).</summary>
    public const string Both = "Both";

    /// <summary>
    /// A browser test of how a page looks and behaves. The database work behind the page is its services', which run on
    /// both providers through HTTP and bUnit, so a second run in Chromium on PostgreSQL would prove nothing new and it runs
    /// on SQLite. The browser journeys that cross the app end to end (a marketer's first campaign, the dashboard, the
    /// campaign list, segments, A/B, clicks) carry no trait and run on PostgreSQL too.
    /// </summary>
    public const string PagesOnly = "PagesOnly";
}
