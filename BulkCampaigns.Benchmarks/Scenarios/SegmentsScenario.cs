using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Benchmarks.Scenarios;

/// <summary>
/// <c>POST /v1/Segments/Count</c> over a 1,000,000-recipient group with three conditions (text <c>in</c>, a number range,
/// a date), through the running app, beside the floor: the same filter as one hand-written query in the
/// <c>sqlite3</c> command line over the recipients' own JSON. The first count after the group's import (which builds
/// the folded values) is reported apart from the steady one a marketer meets while editing.
/// </summary>
public sealed class SegmentsScenario : IScenario
{
    public string Name => "segments";
    public string Description => "segment count over a 1M group with 3 conditions, beside the same filter in sqlite3";

    private const string Filter = """
        {"all": [{"variable": "plan", "op": "in", "value": ["pro", "gold"]},
                 {"variable": "age", "op": "between", "value": [30, 50]},
                 {"variable": "signup_date", "op": "after", "value": "2025-06-01"}]}
        """;

    // The floor keeps SQLite's ASCII lower() (the command line has no Unicode folding) and trusts every age to be a number.
    private const string FloorSql = """
        SELECT COUNT(*) FROM Recipients WHERE GroupId = 1
          AND lower(VariablesJson ->> '$.plan') IN ('pro', 'gold')
          AND CAST(VariablesJson ->> '$.age' AS REAL) BETWEEN 30 AND 50
          AND substr(VariablesJson ->> '$.signup_date', 1, 10) > '2025-06-01';
        """;

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task<ScenarioResult> RunAsync(IReadOnlyDictionary<string, string> options, CancellationToken ct)
    {
        var rows = options.TryGetValue("rows", out var r) ? int.Parse(r, CultureInfo.InvariantCulture) : 1_000_000;
        var folder = Path.Combine(Path.GetTempPath(), "bulkcampaigns-bench", "segments-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var database = Path.Combine(folder, "app.db");
        try
        {
            using var app = AppProcess.Start(database, new Dictionary<string, string>());
            using var client = app.ApiClient(TimeSpan.FromMinutes(5));
            await app.WaitHealthyAsync(client, ct);
            var created = await client.PostAsJsonAsync("/v1/Groups", new { name = "Segments bench" }, ct);
            created.EnsureSuccessStatusCode();
            var groupId = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!;
            Console.Error.WriteLine($"writing {rows:N0} recipients …");
            await FillAsync(database, rows, ct);

            var body = $$"""{"groupIds": ["{{groupId}}"], "filter": {{Filter}}}""";
            var (first, count) = await CountAsync(client, body, ct);
            var steady = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                steady.Add((await CountAsync(client, body, ct)).Seconds);
            }
            steady.Sort();
            var floor = Floor(database);
            var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";
            Console.WriteLine($"count {count:N0}; first {first:0.000} s, steady median {steady[2]:0.000} s (best {steady[0]:0.000}); floor {floor:0.000} s; load {load}");
            var figures = new List<Figure>
            {
                new("segment count, steady (median of 5)", steady[2], "s", floor, "≤ 1 s over 1,000,000 recipients", steady[2] <= 1.0),
                new("segment count, best of 5", steady[0], "s", floor),
                new("segment count, first after import (builds folded values)", first, "s", floor),
            };
            return Harness.Result(Name, figures, new Dictionary<string, string>
            {
                ["rows"] = rows.ToString(CultureInfo.InvariantCulture),
                ["matches"] = count.ToString(CultureInfo.InvariantCulture),
                ["filter"] = Filter.ReplaceLineEndings(" "),
                ["loadavg"] = load,
            });
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<(double Seconds, long Count)> CountAsync(HttpClient client, string body, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var response = await client.PostAsync("/v1/Segments/Count", new StringContent(body, Encoding.UTF8, "application/json"), ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        watch.Stop();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"count failed: {(int)response.StatusCode} {text}");
        }
        return (watch.Elapsed.TotalSeconds, JsonDocument.Parse(text).RootElement.GetProperty("recipientCount").GetInt64());
    }

    /// <summary>Realistic variables (many scripts, some ages not numbers) written straight into the group, as an import leaves them.</summary>
    private static async Task FillAsync(string database, int rows, CancellationToken ct)
    {
        await using var connection = new SqliteConnection($"Data Source={database};Default Timeout=120");
        await connection.OpenAsync(ct);
        string[] plans = ["free", "Pro", "GOLD", "premium", "Ålesund", "enterprise"];
        string[] names = ["Zoë", "Nguyễn Văn An", "李小龍", "Anna", "José 😀", "Bob"];
        var random = new Random(42);
        await using var tx = connection.BeginTransaction();
        await using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = "INSERT INTO Recipients (GroupId, Address, Channel, VariablesJson, CreatedAt) VALUES (1, $a, 'PHONE', $v, '2026-12-01 00:00:00+00:00')";
        var address = insert.Parameters.Add("$a", SqliteType.Text);
        var variables = insert.Parameters.Add("$v", SqliteType.Text);
        for (var i = 0; i < rows; i++)
        {
            address.Value = "+1" + (2012000000L + i).ToString(CultureInfo.InvariantCulture);
            var age = random.Next(50) == 0 ? "n/a" : random.Next(18, 90).ToString(CultureInfo.InvariantCulture);
            variables.Value = JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["first_name"] = names[random.Next(names.Length)], ["plan"] = plans[random.Next(plans.Length)], ["age"] = age,
                ["signup_date"] = $"2025-{random.Next(1, 13):00}-{random.Next(1, 29):00}", ["city"] = "City " + random.Next(500), ["code"] = "X" + i,
            }, Relaxed);
            await insert.ExecuteNonQueryAsync(ct);
        }
        await using (var group = connection.CreateCommand())
        {
            group.Transaction = tx;
            group.CommandText = "UPDATE Groups SET RecipientCount = $n, AttributeKeysJson = '[\"first_name\",\"plan\",\"age\",\"signup_date\",\"city\",\"code\"]', LastImportAt = '2026-12-01 00:00:00+00:00' WHERE Id = 1";
            group.Parameters.AddWithValue("$n", rows);
            await group.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    private static double Floor(string database)
    {
        try
        {
            var start = new ProcessStartInfo("sqlite3", [database]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            var watch = Stopwatch.StartNew();
            using var process = Process.Start(start)!;
            process.StandardInput.Write(FloorSql);
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            watch.Stop();
            Console.WriteLine($"floor (sqlite3, one hand-written query): {watch.Elapsed.TotalSeconds:0.000} s, count {output.Trim()}");
            return watch.Elapsed.TotalSeconds;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.WriteLine("sqlite3 is not installed: no floor.");
            return double.NaN;
        }
    }
}
