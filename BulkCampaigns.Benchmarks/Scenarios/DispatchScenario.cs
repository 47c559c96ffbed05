using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Data;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Benchmarks.Scenarios;

/// <summary>
/// Launch to COMPLETED of one operation to a stored group (default 1,000,000 recipients) through the
/// Simulator with zero latency, no failures and an MPS that does not bind. The app runs as its own
/// process, as in production, so its memory is measured alone. The floor is the same rows inserted and
/// updated by plain SQL in the sqlite3 command-line tool.
/// </summary>
public sealed class DispatchScenario : IScenario
{
    public string Name => "dispatch";
    public string Description => "1M-recipient operation, launch to COMPLETED, beside sqlite3 doing the same rows";

    public async Task<ScenarioResult> RunAsync(IReadOnlyDictionary<string, string> options, CancellationToken ct)
    {
        if (options.TryGetValue("env", out var extra))
        {
            foreach (var pair in extra.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = pair.Split('=', 2);
                Extra[parts[0]] = parts[1];
            }
        }
        var rows = options.TryGetValue("rows", out var r) ? int.Parse(r, CultureInfo.InvariantCulture) : 1_000_000;
        var folder = Path.Combine(Path.GetTempPath(), "bulkcampaigns-bench", "dispatch-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var database = Path.Combine(folder, "app.db");
        try
        {
            using var process = AppProcess.Start(database, Extra);
            var app = process.Process;
            using var client = process.ApiClient(TimeSpan.FromMinutes(5));
            await process.WaitHealthyAsync(client, ct);
            (await client.PostAsJsonAsync("/v1/Senders", new { address = "+14155550100", channel = "SMS", mps = 1_000_000 }, ct)).EnsureSuccessStatusCode();
            var group = await InsertGroupAsync(database, rows, ct);

            GC.Collect();
            app.Refresh();
            var memoryBefore = app.WorkingSet64;
            long peak = memoryBefore;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    app.Refresh();
                    peak = Math.Max(peak, app.WorkingSet64);
                    await Task.Delay(50, CancellationToken.None);
                }
            }, CancellationToken.None);

            var watch = Stopwatch.StartNew();
            var response = await client.PostAsJsonAsync("/v1/Messages", new
            {
                from = new { address = "+14155550100", channel = "SMS" },
                to = new[] { new { groupId = group } },
                content = new { text = "Hi {{first_name | default: 'there'}}, your code is {{code}}." },
            }, ct);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                throw new InvalidOperationException($"launch failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            }
            var accepted = watch.Elapsed;
            var operation = response.Headers.GetValues("operationId").Single();
            JsonElement op;
            while (true)
            {
                op = await client.GetFromJsonAsync<JsonElement>($"/v1/Messages/Operations/{operation}", ct);
                if (op.GetProperty("status").GetString() is "COMPLETED" or "CANCELED" or "PAUSED")
                {
                    break;
                }
                await Task.Delay(100, ct);
            }
            watch.Stop();
            await sampling.CancelAsync();
            await sampler;
            var stats = op.GetProperty("stats");
            var sent = stats.GetProperty("sent").GetInt64() + stats.GetProperty("delivered").GetInt64();
            if (op.GetProperty("status").GetString() != "COMPLETED" || sent != rows)
            {
                throw new InvalidOperationException($"the operation did not complete cleanly: {op}");
            }
            app.Kill(entireProcessTree: true);
            await app.WaitForExitAsync(ct);

            var floor = await FloorAsync(folder, rows, ct);
            var seconds = watch.Elapsed.TotalSeconds;
            var growth = (peak - memoryBefore) / (1024.0 * 1024.0);
            var figures = new List<Figure>
            {
                new("launch → COMPLETED", seconds, "s", floor, "≤ 20 s", seconds <= 20),
                new("launch request (202)", accepted.TotalSeconds, "s"),
                new("throughput", rows / seconds, "msg/s"),
                new("app memory growth (peak working set)", growth, "MB", null, "≤ 200 MB", growth <= 200),
            };
            return Harness.Result(Name, figures, new Dictionary<string, string>
            {
                ["rows"] = rows.ToString(CultureInfo.InvariantCulture),
                ["env"] = string.Join(',', Extra.Select(e => $"{e.Key}={e.Value}")),
                ["provider"] = "Simulated, LatencyMs=0, FailureRate=0, UndeliveredRate=0, DeliveryDelayMs=2000",
                ["floor"] = "sqlite3 CLI: INSERT…SELECT the message rows, UPDATE them to SENDING, INSERT the simulator rows, UPDATE to SENT with a body",
            });
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Extra app settings from <c>--env KEY=VALUE,KEY=VALUE</c>, for experiments.</summary>
    private static Dictionary<string, string> Extra { get; } = new();

    private static async Task<string> InsertGroupAsync(string database, int rows, CancellationToken ct)
    {
        await using var connection = new SqliteConnection($"Data Source={database}");
        await connection.OpenAsync(ct);
        await using var tx = connection.BeginTransaction();
        await using var group = connection.CreateCommand();
        group.Transaction = tx;
        group.CommandText = "INSERT INTO Groups (Name, RecipientCount, AttributeKeysJson, CreatedAt, UpdatedAt) VALUES ('bench', $n, '[\"first_name\",\"code\"]', $now, $now) RETURNING Id";
        group.Parameters.AddWithValue("$n", rows);
        group.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow);
        var groupId = (long)(await group.ExecuteScalarAsync(ct))!;
        await using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = """
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $n)
            INSERT INTO Recipients (GroupId, Address, Channel, VariablesJson, CreatedAt)
            SELECT $g, '+1' || (2020000000 + i * 7), 'PHONE', json_object('first_name', 'Name' || i, 'code', printf('%06d', i)), $now FROM n
            """;
        insert.Parameters.AddWithValue("$n", rows);
        insert.Parameters.AddWithValue("$g", groupId);
        insert.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow);
        await insert.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return PublicId.Encode(PublicId.Group, groupId);
    }

    /// <summary>The plainest way to write the same rows: sqlite3 with one statement per step, in WAL with synchronous=NORMAL like the app.</summary>
    private static async Task<double> FloorAsync(string folder, int rows, CancellationToken ct)
    {
        var path = Path.Combine(folder, "floor.db");
        var sql = $"""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
            CREATE TABLE r (Id INTEGER PRIMARY KEY, Address TEXT, VariablesJson TEXT);
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {rows})
            INSERT INTO r (Address, VariablesJson) SELECT '+1' || (2020000000 + i * 7), json_object('first_name', 'Name' || i, 'code', printf('%06d', i)) FROM n;
            CREATE TABLE m (Id INTEGER PRIMARY KEY, OperationId INTEGER, Address TEXT, Channel TEXT, VariablesJson TEXT, Status INTEGER, Body TEXT,
                ProviderMessageId TEXT, CreatedAt INTEGER, UpdatedAt INTEGER, SentAt INTEGER);
            CREATE UNIQUE INDEX m_op_address ON m (OperationId, Address);
            CREATE TABLE s (Id INTEGER PRIMARY KEY, "From" TEXT, "To" TEXT, Body TEXT, ReceivedAt INTEGER, CallbackMessageId INTEGER);
            CREATE INDEX s_to ON s ("To", Id);
            .timer on
            INSERT INTO m (OperationId, Address, Channel, VariablesJson, Status, CreatedAt, UpdatedAt) SELECT 1, Address, 'PHONE', VariablesJson, 1, 0, 0 FROM r;
            UPDATE m SET Status = 2, UpdatedAt = 1;
            INSERT INTO s ("From", "To", Body, ReceivedAt, CallbackMessageId)
                SELECT '+14155550100', Address, 'Hi ' || json_extract(VariablesJson, '$.first_name') || ', your code is ' || json_extract(VariablesJson, '$.code') || '.', 2, Id FROM m;
            UPDATE m SET Status = 3, Body = 'Hi ' || json_extract(VariablesJson, '$.first_name') || ', your code is ' || json_extract(VariablesJson, '$.code') || '.', ProviderMessageId = 'SIM' || Id, SentAt = 3, UpdatedAt = 3;
            """;
        var start = new ProcessStartInfo("sqlite3", $"\"{path}\"") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(sql);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        // ".timer on" prints "Run Time: real 1.234 user … sys …" per statement: the floor is the sum of the timed steps.
        return output.Split('\n').Where(l => l.StartsWith("Run Time: real ", StringComparison.Ordinal))
            .Sum(l => double.Parse(l.Split(' ')[3], CultureInfo.InvariantCulture));
    }
}
