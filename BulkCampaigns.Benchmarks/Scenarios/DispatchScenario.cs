using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Data;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Benchmarks.Scenarios;

/// <summary>
/// Launch to COMPLETED of one operation to a group imported from a realistic file (<see cref="RealisticCsv"/>,
/// 1,000,000 rows by default, so about 980,000 distinct recipients) with <see cref="RealisticCsv.Template"/>, through
/// the Simulator with zero latency, no failures, delivery reports on and an MPS that does not bind. The app runs as
/// its own process, as in production, so its memory is measured alone. The group is imported once into a template
/// database; every run copies it and starts a fresh app on the copy: cold is the first operation of that app, warm
/// follows an operation to a 5,000-recipient group. The floor, run after each run, is the same rows inserted and
/// updated by plain SQL in the sqlite3 command-line tool.
/// With <c>--db postgres</c> the app runs on PostgreSQL (its jobs too): the template is a database every run copies
/// (<c>CREATE DATABASE … TEMPLATE</c>), and the floor is <c>psql</c> writing the same rows into tables of the same shape as
/// the app's (insert the rendered messages, mark them sent, insert the simulator's rows).
/// With <c>--db postgres --nodes 2</c> every run also sends the same operation with two app processes (nodes) on one
/// copy of the database and one Redis (<see cref="RedisServer"/>), launched and watched through the first node, right
/// after the one-node run and its floor: the two times side by side, how many messages each node's batches handled
/// (from Hangfire's job states in the database), and what the machine and the database did meanwhile
/// (<see cref="RunObserver"/>), from which the run says what limited it.
/// </summary>
public sealed class DispatchScenario : IScenario
{
    public string Name => "dispatch";
    public string Description => $"realistic ~980k-recipient group, \"{RealisticCsv.Template}\", launch → COMPLETED with delivery reports, cold and warm, beside sqlite3 doing the same rows";

    private const string Sender = "+14155550100";

    private static string Links { get; set; } = "none";

    private static object Content => Links switch
    {
        "plain" => new { text = RealisticCsv.Template + " Renew: https://shop.example/renew?plan={{plan}}", trackLinks = false },
        "tracked" => new { text = RealisticCsv.Template + " Renew: https://shop.example/renew?plan={{plan}}", trackLinks = true },
        _ => new { text = RealisticCsv.Template, trackLinks = false },
    };

    public async Task<ScenarioResult> RunAsync(IReadOnlyDictionary<string, string> options, CancellationToken ct)
    {
        var rows = options.TryGetValue("rows", out var r) ? int.Parse(r, CultureInfo.InvariantCulture) : 1_000_000;
        var runCount = options.TryGetValue("runs", out var n) ? int.Parse(n, CultureInfo.InvariantCulture) : 3;
        var phases = options.TryGetValue("phases", out var p) ? p.Split(',') : ["cold", "warm"];
        // --links plain|tracked: the template with a link, sent as written or as a tracked short link (the cost of tracking is the difference).
        Links = options.TryGetValue("links", out var l) ? l : "none";
        // --nodes 2: each run sends the operation with one node and then with two (same database, one Redis); 1 is the plain run.
        var nodes = options.TryGetValue("nodes", out var nd) ? int.Parse(nd, CultureInfo.InvariantCulture) : 1;
        if (nodes is not (1 or 2))
        {
            throw new ArgumentException("--nodes takes 1 or 2");
        }
        if (nodes == 2 && !PostgresServer.Wanted(options))
        {
            throw new ArgumentException("--nodes 2 needs --db postgres: several nodes share one PostgreSQL database");
        }
        var settings = AppProcess.ParseEnv(options);
        // The group is still prepared by the app beside the benchmark; only the measured runs use --app.
        var appDirectory = AppProcess.AppDirectory(options);
        settings["Limits__MaxGroupRecipients"] = Math.Max(1_000_000, rows).ToString(CultureInfo.InvariantCulture);
        var folder = Path.Combine(Path.GetTempPath(), "bulkcampaigns-bench", "dispatch-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        await using var postgres = PostgresServer.Wanted(options) ? await PostgresServer.StartAsync(options, ct) : null;
        // Disposed before the database server, also when the run fails: a Redis the benchmark started is stopped.
        await using var redis = nodes == 2 ? await RedisServer.StartAsync(options, ct) : null;
        const string pgTemplate = "bench_dispatch_template";
        try
        {
            var template = Path.Combine(folder, "template.db");
            var prepareSettings = new Dictionary<string, string>(settings);
            if (postgres is not null)
            {
                await postgres.CreateDatabaseAsync(pgTemplate, null, ct);
                foreach (var (key, value) in AppProcess.PostgresSettings(postgres.ConnectionString(pgTemplate)))
                {
                    prepareSettings[key] = value;
                }
            }
            var (group, warmUpGroup, recipients) = await PrepareAsync(folder, template, rows, prepareSettings, postgres is not null, ct);
            Console.WriteLine($"prepared: group {group} of {recipients:N0} recipients, warm-up group {warmUpGroup}");

            var runs = new List<Run>();
            var nodeRuns = new List<NodesRun>();
            for (var run = 1; run <= runCount; run++)
            {
                foreach (var phase in phases)
                {
                    var runFolder = Path.Combine(folder, $"{phase}-{run}");
                    Directory.CreateDirectory(runFolder);
                    var database = Path.Combine(runFolder, "app.db");
                    var runSettings = new Dictionary<string, string>(settings);
                    var pgDatabase = $"bench_dispatch_{phase}_{run}";
                    if (postgres is not null)
                    {
                        await postgres.CreateDatabaseAsync(pgDatabase, pgTemplate, ct);
                        foreach (var (key, value) in AppProcess.PostgresSettings(postgres.ConnectionString(pgDatabase)))
                        {
                            runSettings[key] = value;
                        }
                    }
                    else
                    {
                        File.Copy(template, database);
                    }
                    var loadAtStart = Harness.LoadAverage();
                    NodesDispatch? oneNode = null;
                    double seconds, growth;
                    string outcome;
                    if (nodes == 2)
                    {
                        // The one-node run of the comparison: the same app and settings, observed like the two-node one.
                        oneNode = await DispatchOnNodesAsync(1, runSettings, runFolder, null, postgres!, pgDatabase, group, phase == "warm" ? warmUpGroup : null, recipients, ct);
                        (seconds, growth, outcome) = (oneNode.Seconds, oneNode.GrowthMb.Max(), oneNode.Outcome);
                    }
                    else
                    {
                        (seconds, growth, outcome) = await DispatchInFreshAppAsync(database, runSettings, group, phase == "warm" ? warmUpGroup : null, recipients, appDirectory, ct);
                    }
                    var loadAtEnd = Harness.LoadAverage();
                    double floor;
                    if (postgres is not null)
                    {
                        if (options.ContainsKey("pg-statements") && await postgres.TopStatementsAsync(pgDatabase, 12, ct) is { } top)
                        {
                            Console.WriteLine("pg_stat_statements, the run's database:\n" + top);
                        }
                        floor = await PostgresFloorAsync(postgres, pgDatabase, group, ct);
                        await postgres.DropDatabaseAsync(pgDatabase, ct);
                    }
                    else
                    {
                        floor = await FloorAsync(runFolder, template, group, ct);
                    }
                    var result = new Run(phase, run, seconds, floor, growth, loadAtStart, loadAtEnd, outcome);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{phase} run {run}: {seconds:0.00} s, floor {floor:0.00} s, ratio {result.Ratio:0.00}, memory growth {growth:0} MB, load {loadAtStart} → {loadAtEnd}; {outcome}"));
                    runs.Add(result);
                    if (oneNode is not null)
                    {
                        var twoNodes = await TwoNodesRunAsync(postgres!, redis!, pgTemplate, $"bench_dispatch_{phase}_{run}_2n", runSettings, runFolder, group, phase == "warm" ? warmUpGroup : null, recipients, ct);
                        runs.Add(new Run(phase + ", 2 nodes", run, twoNodes.Seconds, null, twoNodes.GrowthMb.Max(), twoNodes.LoadAtStart, twoNodes.LoadAtEnd, twoNodes.Outcome));
                        var compared = new NodesRun(phase, run, oneNode, twoNodes);
                        compared.Print(Console.Out);
                        nodeRuns.Add(compared);
                    }
                    SqliteConnection.ClearAllPools();
                    TryDelete(runFolder);
                }
            }
            var figures = new List<Figure>();
            // SQLite: ≤ 12 s cold (issue 16); PostgreSQL: ≤ 3 × its psql floor (issue 12).
            double? targetSeconds = postgres is null ? 12 : null;
            double? targetRatio = postgres is null ? null : 3.0;
            figures.AddRange(Harness.PhaseFigures(runs, "cold", "launch → COMPLETED", targetSeconds, targetRatio, 200));
            figures.AddRange(Harness.PhaseFigures(runs, "warm", "launch → COMPLETED", targetSeconds, targetRatio, 200));
            foreach (var phase in phases.Where(_ => nodes == 2))
            {
                // No time target for two nodes: what is judged is the ratio to one node, printed beside it.
                figures.AddRange(Harness.PhaseFigures(runs, phase + ", 2 nodes", "launch → COMPLETED", null, null, 200).Select(f => f.Target is null ? f with { Met = null } : f));
                if (nodeRuns.Where(c => c.Phase == phase).Select(c => c.Ratio).ToList() is { Count: > 0 } ratios)
                {
                    figures.Add(new Figure($"2 nodes ÷ 1 node, {phase}, worst of {ratios.Count}", ratios.Max(), "×", null, "< 1 is faster with 2"));
                    figures.Add(new Figure($"2 nodes ÷ 1 node, {phase}, best of {ratios.Count}", ratios.Min(), "×"));
                    var sending = nodeRuns.Where(c => c.Phase == phase).Select(c => c.SendingRatio).ToList();
                    figures.Add(new Figure($"2 nodes ÷ 1 node after the launch request, {phase}, worst of {sending.Count}", sending.Max(), "×"));
                    figures.Add(new Figure($"2 nodes ÷ 1 node after the launch request, {phase}, best of {sending.Count}", sending.Min(), "×"));
                }
            }
            if (nodeRuns.Count > 0)
            {
                Console.WriteLine();
                NodesRun.PrintTable(nodeRuns, Console.Out);
            }
            // Kept beside the SQLite figures: BenchmarkResults/<scenario>-postgres.json.
            // --nodes 2 is kept apart too: BenchmarkResults/dispatch-postgres-nodes.json.
            var parameters = new Dictionary<string, string>
            {
                ["rows"] = rows.ToString(CultureInfo.InvariantCulture),
                ["recipients"] = recipients.ToString(CultureInfo.InvariantCulture),
                ["runs"] = runCount.ToString(CultureInfo.InvariantCulture),
                ["template"] = RealisticCsv.Template,
                ["links"] = Links,
                ["env"] = string.Join(',', settings.Select(e => $"{e.Key}={e.Value}")),
                ["app"] = appDirectory ?? "built beside the benchmark",
                ["provider"] = "Simulated, LatencyMs=0, FailureRate=0, UndeliveredRate=0, delivery reports on (the app's DeliveryDelayMs)",
                ["db"] = postgres is null ? "sqlite" : "postgres",
                ["floor"] = postgres is null
                    ? "sqlite3 CLI: INSERT…SELECT the message rows, UPDATE them to SENDING, INSERT the simulator rows, UPDATE to SENT with the rendered body"
                    : "psql, same server: INSERT…SELECT the rendered message rows, UPDATE them to SENT, INSERT…SELECT the simulator rows, into tables LIKE Messages/SimulatorMessages INCLUDING ALL",
            };
            if (nodes == 2)
            {
                parameters["nodes"] = "1, then 2 on a fresh copy of the same database, in each run (2: one Redis, launched and watched through node-1)";
                parameters["redis"] = redis!.Address;
            }
            return Harness.Result(postgres is null ? Name : nodes == 2 ? Name + "-postgres-nodes" : Name + "-postgres", figures, parameters)
                with { Runs = runs, Nodes = nodeRuns.Count > 0 ? nodeRuns : null };
        }
        finally
        {
            if (postgres is not null)
            {
                await postgres.DropDatabaseAsync(pgTemplate, CancellationToken.None);
            }
            SqliteConnection.ClearAllPools();
            TryDelete(folder);
        }
    }

    /// <summary>
    /// Builds the template database the way a user would: a sender, then the realistic file and a 5,000-row warm-up
    /// file imported over the API. Answers the two groups and the recipients of the first.
    /// </summary>
    private static async Task<(string Group, string WarmUp, long Recipients)> PrepareAsync(string folder, string template, int rows, Dictionary<string, string> settings, bool onPostgres, CancellationToken ct)
    {
        var csv = Path.Combine(folder, "recipients.csv");
        var file = RealisticCsv.Write(csv, rows);
        Console.WriteLine($"generated {rows:N0} rows ({file.Bytes / (1024.0 * 1024.0):0.0} MB), {file.Invalid:N0} invalid, {file.Duplicates:N0} duplicates");
        var warmUpCsv = Path.Combine(folder, "warm-up.csv");
        RealisticCsv.Write(warmUpCsv, 5_000, seed: 7);
        string group, warmUp;
        long recipients;
        using (var app = AppProcess.Start(template, settings))
        {
            using var client = app.ApiClient(TimeSpan.FromMinutes(10));
            await app.WaitHealthyAsync(client, ct);
            (await client.PostAsJsonAsync("/v1/Senders", new { address = Sender, channel = "SMS", mps = 1_000_000 }, ct)).EnsureSuccessStatusCode();
            group = await ImportScenario.CreateGroupAsync(client, "Benchmark", ct);
            var import = await ImportScenario.ImportAsync(client, group, csv, ct);
            warmUp = await ImportScenario.CreateGroupAsync(client, "Warm-up", ct);
            var warmUpImport = await ImportScenario.ImportAsync(client, warmUp, warmUpCsv, ct);
            if (import.GetProperty("status").GetString() != "COMPLETED" || warmUpImport.GetProperty("status").GetString() != "COMPLETED")
            {
                throw new InvalidOperationException($"the imports did not complete: {import} {warmUpImport}");
            }
            recipients = (await client.GetFromJsonAsync<JsonElement>($"/v1/Groups/{group}", ct)).GetProperty("recipientCount").GetInt64();
            // Let go of the database, which each run copies as a template.
            await app.StopAsync();
        }
        if (onPostgres)
        {
            File.Delete(csv);
            return (group, warmUp, recipients);
        }
        // One file to copy: the app was stopped, its WAL is folded into the database.
        await using (var connection = new SqliteConnection($"Data Source={template};Pooling=False"))
        {
            await connection.OpenAsync(ct);
            await using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            await checkpoint.ExecuteNonQueryAsync(ct);
        }
        File.Delete(csv);
        return (group, warmUp, recipients);
    }

    /// <summary>Starts the app on <paramref name="database"/>, runs a warm-up operation when asked, then measures the operation to <paramref name="group"/>.</summary>
    private static async Task<(double Seconds, double GrowthMb, string Outcome)> DispatchInFreshAppAsync(
        string database, Dictionary<string, string> settings, string group, string? warmUpGroup, long recipients, string? appDirectory, CancellationToken ct)
    {
        using var app = AppProcess.Start(database, settings, appDirectory);
        using var client = app.ApiClient(TimeSpan.FromMinutes(10));
        await app.WaitHealthyAsync(client, ct);
        if (warmUpGroup is not null)
        {
            await DispatchAsync(client, warmUpGroup, ct);
        }
        var watch = new Stopwatch();
        var ((op, accepted), growth) = await app.MeasureMemoryAsync(async () =>
        {
            watch.Start();
            var result = await DispatchAsync(client, group, ct);
            watch.Stop();
            return result;
        });
        var stats = op.GetProperty("stats");
        var sent = stats.GetProperty("sent").GetInt64() + stats.GetProperty("delivered").GetInt64();
        if (op.GetProperty("status").GetString() != "COMPLETED" || sent != recipients)
        {
            throw new InvalidOperationException($"the operation did not complete cleanly: {op}");
        }
        var seconds = watch.Elapsed.TotalSeconds;
        var reportedAtCompleted = Reported(stats);
        var cpu = app.CpuSecondsOfLastMeasure;
        // Not the timed figure: when the last delivery report is in (the Simulator reports each send after its delay),
        // so a change that moves report work before or after COMPLETED shows as what it is.
        var allReported = await AllReportedAsync(client, op.GetProperty("id").GetString()!, recipients, watch, ct);
        return (seconds, growth, string.Create(CultureInfo.InvariantCulture,
            $"{sent:N0} sent ({sent / seconds:N0} msg/s), launch request {accepted.TotalSeconds:0.00} s, app CPU {cpu:0.00} s, {reportedAtCompleted:N0} reported at COMPLETED, every report in at {allReported:0.00} s"));
    }

    private static long Reported(JsonElement stats) =>
        stats.GetProperty("delivered").GetInt64() + stats.GetProperty("read").GetInt64() + stats.GetProperty("undelivered").GetInt64();

    /// <summary>Seconds from the launch (the watch, stopped at COMPLETED and resumed here) until every sent message has its delivery report.</summary>
    private static async Task<double> AllReportedAsync(HttpClient client, string operation, long recipients, Stopwatch watch, CancellationToken ct)
    {
        watch.Start();
        // A bail-out: reports follow the sends by seconds.
        if (await PollAsync(client, operation, op => Reported(op.GetProperty("stats")) >= recipients, TimeSpan.FromMinutes(5), ct) is null)
        {
            throw new InvalidOperationException($"not every delivery report came in within 5 minutes of COMPLETED (operation {operation})");
        }
        watch.Stop();
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// The two-node run of a comparison: a fresh copy of the template, the operation sent by two nodes sharing it and
    /// <paramref name="redis"/>, then how many messages each node's batches handled; the copy is dropped after.
    /// </summary>
    private static async Task<NodesDispatch> TwoNodesRunAsync(PostgresServer postgres, RedisServer redis, string template, string database,
        Dictionary<string, string> settings, string runFolder, string group, string? warmUpGroup, long recipients, CancellationToken ct)
    {
        await postgres.CreateDatabaseAsync(database, template, ct);
        try
        {
            var twoSettings = new Dictionary<string, string>(settings);
            foreach (var (key, value) in AppProcess.PostgresSettings(postgres.ConnectionString(database)))
            {
                twoSettings[key] = value;
            }
            return await DispatchOnNodesAsync(2, twoSettings, runFolder, redis, postgres, database, group, warmUpGroup, recipients, ct);
        }
        finally
        {
            await postgres.DropDatabaseAsync(database, CancellationToken.None);
        }
    }

    /// <summary>
    /// Starts <paramref name="count"/> nodes (node-1, node-2; each its own data folder; on <paramref name="redis"/> when
    /// given) on the run's PostgreSQL database one after the other, as README's "Several nodes" does, runs the warm-up
    /// operation when asked, then launches the operation through node-1 and polls node-1 until it is COMPLETED, observing
    /// the nodes, the database server and Redis meanwhile. The nodes are killed at the end.
    /// </summary>
    private static async Task<NodesDispatch> DispatchOnNodesAsync(int count, Dictionary<string, string> settings, string runFolder, RedisServer? redis,
        PostgresServer postgres, string pgDatabase, string group, string? warmUpGroup, long recipients, CancellationToken ct)
    {
        var apps = new List<AppProcess>();
        try
        {
            for (var i = 1; i <= count; i++)
            {
                var nodeSettings = new Dictionary<string, string>(settings)
                {
                    ["Node__Name"] = $"node-{i}",
                    ["Database__DataFolder"] = Path.Combine(runFolder, $"node-{i}-{count}"),
                };
                if (redis is not null)
                {
                    nodeSettings["ConnectionStrings__Redis"] = redis.Address;
                }
                var app = AppProcess.Start(Path.Combine(runFolder, "unused.db"), nodeSettings);
                apps.Add(app);
                using var health = app.ApiClient(TimeSpan.FromSeconds(30));
                await app.WaitHealthyAsync(health, ct);
            }
            using var client = apps[0].ApiClient(TimeSpan.FromMinutes(10));
            if (warmUpGroup is not null)
            {
                await DispatchAsync(client, warmUpGroup, ct);
            }
            var connectionString = postgres.ConnectionString(pgDatabase);
            var postmaster = await RunObserver.PostgresServerPidAsync(connectionString, ct);
            var names = apps.Select((a, i) => ($"node-{i + 1}", (int?)a.Process.Id)).ToList();
            await using var observer = RunObserver.Start([.. names, ("PostgreSQL", postmaster), ("Redis", redis?.ProcessId)], connectionString);
            var loadAtStart = Harness.LoadAverage();
            var watch = new Stopwatch();
            var ((op, accepted), growth) = await MeasureAllAsync(apps, 0, async () =>
            {
                watch.Start();
                var result = await DispatchAsync(client, group, ct);
                watch.Stop();
                return result;
            });
            var observed = await observer.StopAsync();
            var loadAtEnd = Harness.LoadAverage();
            var stats = op.GetProperty("stats");
            var sent = stats.GetProperty("sent").GetInt64() + stats.GetProperty("delivered").GetInt64();
            if (op.GetProperty("status").GetString() != "COMPLETED" || sent != recipients)
            {
                throw new InvalidOperationException($"the operation did not complete cleanly on {count} node(s): {op}");
            }
            var seconds = watch.Elapsed.TotalSeconds;
            var (shares, rerun) = await SentByNodeAsync(connectionString, op.GetProperty("id").GetString()!, apps, ct);
            var outcome = string.Create(CultureInfo.InvariantCulture, $"{sent:N0} sent ({sent / seconds:N0} msg/s) by {count} node(s), launch request {accepted.TotalSeconds:0.00} s");
            return new NodesDispatch(count, seconds, accepted.TotalSeconds, growth, outcome, loadAtStart, loadAtEnd, shares, rerun, observed,
                observed.CpuLine(), observed.SessionsLine(), observed.LimitLine());
        }
        finally
        {
            foreach (var app in apps)
            {
                app.Dispose();
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> measuring the memory growth of every app from <paramref name="from"/> on (one inside the other).</summary>
    private static async Task<(T Result, List<double> GrowthMb)> MeasureAllAsync<T>(IReadOnlyList<AppProcess> apps, int from, Func<Task<T>> work)
    {
        if (from == apps.Count)
        {
            return (await work(), []);
        }
        var ((result, inner), growth) = await apps[from].MeasureMemoryAsync(() => MeasureAllAsync(apps, from + 1, work));
        inner.Insert(0, growth);
        return (result, inner);
    }

    /// <summary>
    /// How many messages of the operation each node's batches handled, from the database: Hangfire keeps every batch
    /// job (<c>SendBatchAsync(operation, fromId, toId)</c>) with its Processing state, whose <c>ServerId</c> is
    /// "host:pid:guid", so a batch is its node's by the PID; a batch's messages are the operation's messages in its range.
    /// Also answers how many ranges ran more than once (a batch stopped for its lease and queued again: counted for each run).
    /// </summary>
    private static async Task<(IReadOnlyList<NodeShare> Shares, int RerunRanges)> SentByNodeAsync(string connectionString, string operationId, List<AppProcess> apps, CancellationToken ct)
    {
        if (!PublicId.TryDecode(PublicId.Operation, operationId, out var operationKey))
        {
            throw new InvalidOperationException("not an operation id: " + operationId);
        }
        const string runs = """
            WITH runs AS (
                SELECT DISTINCT j.id, (j.arguments::jsonb ->> 1)::bigint AS from_id, (j.arguments::jsonb ->> 2)::bigint AS to_id,
                       s.data::jsonb ->> 'ServerId' AS server
                FROM hangfire.job j JOIN hangfire.state s ON s.jobid = j.id AND s.name = 'Processing'
                WHERE j.invocationdata::jsonb ->> 'Method' = 'SendBatchAsync' AND (j.arguments::jsonb ->> 0)::bigint = @op)
            """;
        await using var connection = new Npgsql.NpgsqlConnection(connectionString + ";Pooling=false");
        await connection.OpenAsync(ct);
        var shares = new List<NodeShare>();
        await using (var command = new Npgsql.NpgsqlCommand(runs + """
            SELECT r.server, count(DISTINCT r.id)::int, count(m."Id")
            FROM runs r LEFT JOIN "Messages" m ON m."OperationId" = @op AND m."Id" BETWEEN r.from_id AND r.to_id
            GROUP BY r.server ORDER BY r.server
            """, connection))
        {
            command.Parameters.AddWithValue("op", operationKey);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var server = reader.IsDBNull(0) ? "?" : reader.GetString(0);
                var node = apps.Select((a, i) => (a, i)).FirstOrDefault(x => server.Contains($":{x.a.Process.Id}:", StringComparison.Ordinal));
                var name = node.a is null ? "server " + server : $"node-{node.i + 1}";
                shares.Add(new NodeShare(name, reader.GetInt32(1), reader.GetInt64(2)));
            }
        }
        await using var rerun = new Npgsql.NpgsqlCommand(runs + "SELECT count(*)::int FROM (SELECT 1 FROM runs GROUP BY from_id, to_id HAVING count(*) > 1) x", connection);
        rerun.Parameters.AddWithValue("op", operationKey);
        var rerunRanges = (int)(await rerun.ExecuteScalarAsync(ct))!;
        // Nodes that ran no batch are listed too, with nothing.
        foreach (var missing in Enumerable.Range(1, apps.Count).Select(i => $"node-{i}").Where(n => shares.All(s => s.Node != n)))
        {
            shares.Add(new NodeShare(missing, 0, 0));
        }
        return (shares.OrderBy(s => s.Node, StringComparer.Ordinal).ToList(), rerunRanges);
    }

    /// <summary>Launches an operation to the group and polls it until it is no longer running; answers it and how long the launch request took.</summary>
    private static async Task<(JsonElement Operation, TimeSpan Accepted)> DispatchAsync(HttpClient client, string group, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var response = await client.PostAsJsonAsync("/v1/Messages", new
        {
            from = new { address = Sender, channel = "SMS" },
            to = new[] { new { groupId = group } },
            content = Content,
        }, ct);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"launch failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
        var accepted = watch.Elapsed;
        var operation = response.Headers.GetValues("operationId").Single();
        var done = await PollAsync(client, operation, op => op.GetProperty("status").GetString() is "COMPLETED" or "CANCELED" or "PAUSED", TimeSpan.MaxValue, ct);
        return (done!.Value, accepted);
    }

    /// <summary>The operation every 100 ms until <paramref name="done"/> holds; null when <paramref name="limit"/> passes first.</summary>
    private static async Task<JsonElement?> PollAsync(HttpClient client, string operation, Func<JsonElement, bool> done, TimeSpan limit, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < limit)
        {
            var op = await client.GetFromJsonAsync<JsonElement>($"/v1/Messages/Operations/{operation}", ct);
            if (done(op))
            {
                return op;
            }
            await Task.Delay(100, ct);
        }
        return null;
    }

    /// <summary>
    /// The plainest way to write the same rows on PostgreSQL: psql on the run's database (the app stopped), into tables of
    /// the same shape as the app's Messages and SimulatorMessages (their indexes too); the steps are timed by psql's
    /// <c>\timing</c>, the set-up (the group's recipients copied out) is not.
    /// </summary>
    private static async Task<double> PostgresFloorAsync(PostgresServer postgres, string database, string group, CancellationToken ct)
    {
        if (!PublicId.TryDecode(PublicId.Group, group, out var groupKey))
        {
            throw new InvalidOperationException("not a group id: " + group);
        }
        const string body = "'Hi ' || (\"VariablesJson\"::json ->> 'first_name') || ', your ' || (\"VariablesJson\"::json ->> 'plan') || ' plan renews soon.'";
        var queued = (int)BulkCampaigns.Operations.MessageStatus.Queued;
        var sent = (int)BulkCampaigns.Operations.MessageStatus.Sent;
        var sql = $"""
            CREATE TEMP TABLE r AS SELECT "Address", "VariablesJson" FROM "Recipients" WHERE "GroupId" = {groupKey} ORDER BY "Address";
            CREATE TABLE floor_messages (LIKE "Messages" INCLUDING ALL);
            CREATE TABLE floor_simulator (LIKE "SimulatorMessages" INCLUDING ALL);
            \timing on
            INSERT INTO floor_messages ("OperationId", "Address", "Channel", "VariablesJson", "Status", "Body", "Segments", "Attempts", "Retryable", "CreatedAt", "UpdatedAt")
            SELECT 1, "Address", 'PHONE', "VariablesJson", {queued}, {body}, 1, 0, false, 1, 1 FROM r;
            UPDATE floor_messages SET "Status" = {sent}, "ProviderMessageId" = 'SIM' || "Id", "Attempts" = 1, "SentAt" = 2, "UpdatedAt" = 2;
            INSERT INTO floor_simulator ("From", "To", "Body", "MediaJson", "ReceivedAt", "CallbackMessageId", "WillDeliver", "ReportDueAt")
            SELECT '{Sender}', "Address", "Body", '[]', 2, "Id", true, 2 FROM floor_messages;
            """;
        var seconds = PostgresServer.TimedSeconds(await postgres.PsqlAsync(database, sql, ct));
        Console.WriteLine($"floor (psql: insert rendered, mark sent, insert simulator rows): {seconds:0.00} s");
        return seconds;
    }

    /// <summary>
    /// The plainest way to write the same rows: sqlite3 with one statement per step, in WAL with synchronous=NORMAL like
    /// the app, on the group's recipients copied from the template (not timed).
    /// </summary>
    private static async Task<double> FloorAsync(string folder, string template, string group, CancellationToken ct)
    {
        if (!PublicId.TryDecode(PublicId.Group, group, out var groupKey))
        {
            throw new InvalidOperationException("not a group id: " + group);
        }
        var path = Path.Combine(folder, "floor.db");
        const string body = "'Hi ' || json_extract(VariablesJson, '$.first_name') || ', your ' || json_extract(VariablesJson, '$.plan') || ' plan renews soon.'";
        var sql = $"""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
            ATTACH '{template}' AS src;
            CREATE TABLE r (Id INTEGER PRIMARY KEY, Address TEXT, VariablesJson TEXT);
            INSERT INTO r (Address, VariablesJson) SELECT Address, VariablesJson FROM src.Recipients WHERE GroupId = {groupKey} ORDER BY Address;
            DETACH src;
            CREATE TABLE m (Id INTEGER PRIMARY KEY, OperationId INTEGER, Address TEXT, Channel TEXT, VariablesJson TEXT, Status INTEGER, Body TEXT,
                ProviderMessageId TEXT, CreatedAt INTEGER, UpdatedAt INTEGER, SentAt INTEGER);
            CREATE UNIQUE INDEX m_op_address ON m (OperationId, Address);
            CREATE TABLE s (Id INTEGER PRIMARY KEY, "From" TEXT, "To" TEXT, Body TEXT, ReceivedAt INTEGER, CallbackMessageId INTEGER);
            CREATE INDEX s_to ON s ("To", Id);
            .timer on
            INSERT INTO m (OperationId, Address, Channel, VariablesJson, Status, CreatedAt, UpdatedAt) SELECT 1, Address, 'PHONE', VariablesJson, 1, 0, 0 FROM r;
            UPDATE m SET Status = 2, UpdatedAt = 1;
            INSERT INTO s ("From", "To", Body, ReceivedAt, CallbackMessageId) SELECT '{Sender}', Address, {body}, 2, Id FROM m;
            UPDATE m SET Status = 3, Body = {body}, ProviderMessageId = 'SIM' || Id, SentAt = 3, UpdatedAt = 3;
            """;
        var start = new ProcessStartInfo("sqlite3", $"\"{path}\"") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(sql);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(ct);
        var errors = await process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (errors.Trim().Length > 0)
        {
            Console.WriteLine("floor: " + errors.Trim());
        }
        // ".timer on" prints "Run Time: real 1.234 user … sys …" per statement: the floor is the sum of the timed steps.
        return output.Split('\n').Where(l => l.StartsWith("Run Time: real ", StringComparison.Ordinal))
            .Sum(l => double.Parse(l.Split(' ')[3], CultureInfo.InvariantCulture));
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>How many batches of an operation a node ran and how many messages were in their ranges.</summary>
public sealed record NodeShare(string Node, int Batches, long Messages);

/// <summary>One operation sent by <paramref name="Nodes"/> nodes: its time, each node's memory growth, what each node sent, what the machine did.</summary>
/// <param name="LaunchSeconds">The launch request (the operation and its messages created, on the node it was sent to): part of <paramref name="Seconds"/> that a second node does not share.</param>
public sealed record NodesDispatch(int Nodes, double Seconds, double LaunchSeconds, IReadOnlyList<double> GrowthMb, string Outcome, string LoadAtStart, string LoadAtEnd,
    IReadOnlyList<NodeShare> SentBy, int RerunRanges, Observed Observed, string Cpu, string DatabaseSessions, string Limit);

/// <summary>One run of the comparison: the same operation sent by one node, then by two, on fresh copies of one database.</summary>
public sealed record NodesRun(string Phase, int Number, NodesDispatch OneNode, NodesDispatch TwoNodes)
{
    /// <summary>Two nodes' time ÷ one node's: below 1 two nodes were faster.</summary>
    public double Ratio => TwoNodes.Seconds / OneNode.Seconds;

    /// <summary>The same for the sending alone: launch → COMPLETED less the launch request, the part both nodes share.</summary>
    public double SendingRatio => (TwoNodes.Seconds - TwoNodes.LaunchSeconds) / (OneNode.Seconds - OneNode.LaunchSeconds);

    public void Print(TextWriter output)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Phase} run {Number}: 1 node {OneNode.Seconds:0.00} s, 2 nodes {TwoNodes.Seconds:0.00} s: 2 nodes ÷ 1 node {Ratio:0.00}; after the launch request {OneNode.Seconds - OneNode.LaunchSeconds:0.00} s and {TwoNodes.Seconds - TwoNodes.LaunchSeconds:0.00} s: {SendingRatio:0.00}; {Shares(TwoNodes)}"));
        foreach (var run in new[] { OneNode, TwoNodes })
        {
            var label = run.Nodes == 1 ? "  1 node:  " : "  2 nodes: ";
            output.WriteLine($"{label}load {run.LoadAtStart} → {run.LoadAtEnd}; {run.Outcome}");
            output.WriteLine($"{label}{run.Cpu}");
            output.WriteLine($"{label}{run.DatabaseSessions}");
            output.WriteLine($"{label}what limits it: {run.Limit}");
        }
    }

    public static void PrintTable(IReadOnlyList<NodesRun> runs, TextWriter output)
    {
        output.WriteLine("| phase | run | 1 node | 2 nodes | 2 nodes ÷ 1 node | the same after the launch request | sent by each node (batches) | load at start → end, 1 node; 2 nodes |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in runs)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Phase} | {r.Number} | {r.OneNode.Seconds:0.00} s | {r.TwoNodes.Seconds:0.00} s | {r.Ratio:0.00} | {r.OneNode.Seconds - r.OneNode.LaunchSeconds:0.00} s, {r.TwoNodes.Seconds - r.TwoNodes.LaunchSeconds:0.00} s: {r.SendingRatio:0.00} | {Shares(r.TwoNodes)} | {r.OneNode.LoadAtStart} → {r.OneNode.LoadAtEnd}; {r.TwoNodes.LoadAtStart} → {r.TwoNodes.LoadAtEnd} |"));
        }
    }

    private static string Shares(NodesDispatch run) =>
        string.Join(", ", run.SentBy.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Node} {s.Messages:N0} ({s.Batches})")))
        + (run.RerunRanges > 0 ? $", {run.RerunRanges} ranges ran twice (counted for each run)" : "");
}
