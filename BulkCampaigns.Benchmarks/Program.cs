using BulkCampaigns.Benchmarks;
using BulkCampaigns.Benchmarks.Scenarios;

// Usage: dotnet run -c Release --project BulkCampaigns.Benchmarks -- <scenario|all> [--key value ...]
IScenario[] scenarios =
[
    new PublicIdScenario(),
    new RenderScenario(),
    new ImportScenario(),
    new DispatchScenario(),
    new DashboardsScenario(),
    new SegmentsScenario(),
    new RedirectScenario(),
    new LinkCodesScenario(),
];

if (args.Length == 0 || args[0] is "-h" or "--help" or "list")
{
    Console.WriteLine("Scenarios:");
    foreach (var s in scenarios)
    {
        Console.WriteLine($"  {s.Name,-10} {s.Description}");
    }
    Console.WriteLine("Run: dotnet run -c Release --project BulkCampaigns.Benchmarks -- <scenario|all> [--rows N] [--runs N] [--pages N] [--out folder]");
    Console.WriteLine("import and dispatch measure each of --runs runs (default 3) cold (the first work of a freshly started app) and warm (after a warm-up).");
    Console.WriteLine("import and dispatch take --db postgres: the app (and its jobs) on PostgreSQL, a cluster started with .ci/postgres on --pg-port (55499) or the server of --pg \"Host=…;Port=…;Username=…\", beside a psql floor.");
    Console.WriteLine("segments --keep yes leaves its database (1M recipients, segment rows built) in the temp folder, to try statements on it.");
    Console.WriteLine("dispatch --db postgres --nodes 2: each run sends the operation with one node, then with two on the same database and one Redis (started with .ci/redis on --redis-port (56399), or --redis host:port), side by side.");
    return 0;
}

var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
for (var i = 1; i + 1 < args.Length; i += 2)
{
    options[args[i].TrimStart('-')] = args[i + 1];
}
var outFolder = options.Remove("out", out var o) ? o : "BenchmarkResults";
var chosen = args[0] == "all" ? scenarios : scenarios.Where(s => s.Name == args[0]).ToArray();
if (chosen.Length == 0)
{
    Console.Error.WriteLine($"Unknown scenario '{args[0]}'. Run with 'list' to see them.");
    return 2;
}
foreach (var scenario in chosen)
{
    var result = await scenario.RunAsync(options, CancellationToken.None);
    if (result.Runs is { Count: > 0 } runs)
    {
        Harness.PrintRuns(runs, Console.Out);
        Console.WriteLine();
    }
    Harness.Print(result, Console.Out);
    await Harness.SaveAsync(result, outFolder);
    Console.WriteLine();
}
return 0;
