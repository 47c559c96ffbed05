using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Benchmarks.Scenarios;

/// <summary>
/// <c>POST /v1/Segments/Count</c> over a 1,000,000-recipient group with three conditions (text <c>in</c>, a number range,
/// a date), through the running app, beside the floor: the same filter as one hand-written query in the
/// <c>sqlite3</c> command line over the recipients' own JSON. The group comes in by a CSV import (which builds the
/// folded values right after it commits), so the first count after it is what a marketer meets then. Then launching
/// a campaign to the saved segment is set against launching one to a group of the segment's size, plus a count.
/// </summary>
public sealed class SegmentsScenario : IScenario
{
    public string Name => "segments";
    public string Description => "segment count over a 1M imported group with 3 conditions, beside the same filter in sqlite3; launch to the segment against a group of its size + a count";

    private const string Sender = "+14155550177";

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

    public async Task<ScenarioResult> RunAsync(IReadOnlyDictionary<string, string> options, CancellationToken ct)
    {
        var rows = options.TryGetValue("rows", out var r) ? int.Parse(r, CultureInfo.InvariantCulture) : 1_000_000;
        var folder = Path.Combine(Path.GetTempPath(), "bulkcampaigns-bench", "segments-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var database = Path.Combine(folder, "app.db");
        try
        {
            using var app = AppProcess.Start(database, new Dictionary<string, string>(), AppProcess.AppDirectory(options));
            using var client = app.ApiClient(TimeSpan.FromMinutes(10));
            await app.WaitHealthyAsync(client, ct);
            var groupId = await CreateGroupAsync(client, "Segments bench", ct);
            var csv = Path.Combine(folder, "recipients.csv");
            Console.Error.WriteLine($"writing and importing {rows:N0} recipients …");
            WriteCsv(csv, rows);
            var importWatch = Stopwatch.StartNew();
            var import = await ImportScenario.ImportAsync(client, groupId, csv, ct);
            var importSeconds = importWatch.Elapsed.TotalSeconds;
            if (import.GetProperty("status").GetString() != "COMPLETED")
            {
                throw new InvalidOperationException("the import failed: " + import);
            }
            var imported = import.GetProperty("imported").GetInt64();

            var body = $$"""{"groupIds": ["{{groupId}}"], "filter": {{Filter}}}""";
            // Right after COMPLETED: the import job is folding the group's values then, and this count waits for it.
            var (first, count) = await CountAsync(client, body, ct);
            var steady = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                steady.Add((await CountAsync(client, body, ct)).Seconds);
            }
            steady.Sort();
            var floor = Floor(database);
            var floorAgain = Floor(database);
            var floorBest = Math.Min(floor, floorAgain);

            // Launches, scheduled a day ahead so nothing is sent: the creation (messages written) is what is timed.
            (await client.PostAsJsonAsync("/v1/Senders", new { address = Sender, channel = "SMS", mps = 1000 }, ct)).EnsureSuccessStatusCode();
            var sameSize = await CreateGroupAsync(client, "Same size as the segment", ct);
            var sameCsv = Path.Combine(folder, "same-size.csv");
            WriteCsv(sameCsv, (int)count, offset: 5_000_000);
            var sameImport = await ImportScenario.ImportAsync(client, sameSize, sameCsv, ct);
            var sameCount = sameImport.GetProperty("imported").GetInt64();
            var saved = await client.PostAsync("/v1/Segments", new StringContent($$"""{"name": "Bench segment", "groupIds": ["{{groupId}}"], "filter": {{Filter}}}""", Encoding.UTF8, "application/json"), ct);
            saved.EnsureSuccessStatusCode();
            var segmentId = (await saved.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!;
            var toGroup = new List<double>();
            var toSegment = new List<double>();
            var counts = new List<double>();
            for (var i = 0; i < 3; i++)
            {
                toGroup.Add(await LaunchAsync(client, new { groupId = sameSize }, ct));
                toSegment.Add(await LaunchAsync(client, new { segmentId }, ct));
                counts.Add((await CountAsync(client, body, ct)).Seconds);
            }
            toGroup.Sort();
            toSegment.Sort();
            counts.Sort();
            var groupPlusCount = toGroup[1] + counts[1];

            var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";
            Console.WriteLine($"import of {imported:N0} → COMPLETED {importSeconds:0.0} s; count {count:N0}; first {first:0.000} s, steady median {steady[2]:0.000} s (best {steady[0]:0.000}); floor {floor:0.000} / {floorAgain:0.000} s; load {load}");
            Console.WriteLine($"launch to the segment ({count:N0}) median {toSegment[1]:0.000} s; to a group of {sameCount:N0} median {toGroup[1]:0.000} s + a count {counts[1]:0.000} s = {groupPlusCount:0.000} s");
            var figures = new List<Figure>
            {
                new("segment count, steady (median of 5)", steady[2], "s", floorBest, "≤ 1 s over 1,000,000 recipients", steady[2] <= 1.0),
                new("segment count, best of 5", steady[0], "s", floorBest),
                new("segment count, first right after the import's COMPLETED", first, "s", floorBest),
                new("import of the group, upload → COMPLETED", importSeconds, "s"),
                new("launch to the segment (median of 3)", toSegment[1], "s", groupPlusCount, "≤ launch to a group of its size + a count", toSegment[1] <= groupPlusCount),
                new("launch to a group of the segment's size (median of 3)", toGroup[1], "s"),
                new("segment count between the launches (median of 3)", counts[1], "s"),
            };
            return Harness.Result(Name, figures, new Dictionary<string, string>
            {
                ["rows"] = imported.ToString(CultureInfo.InvariantCulture),
                ["matches"] = count.ToString(CultureInfo.InvariantCulture),
                ["same-size group"] = sameCount.ToString(CultureInfo.InvariantCulture),
                ["filter"] = Filter.ReplaceLineEndings(" "),
                ["loadavg"] = load,
            });
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (options.ContainsKey("keep"))
            {
                Console.Error.WriteLine($"--keep: the database and files are left in {folder}");
            }
            else
            {
                try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
            }
        }
    }

    private static async Task<string> CreateGroupAsync(HttpClient client, string name, CancellationToken ct)
    {
        var created = await client.PostAsJsonAsync("/v1/Groups", new { name }, ct);
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!;
    }

    /// <summary>Times <c>POST /v1/Messages</c> (the operation and its messages written), then cancels the operation.</summary>
    private static async Task<double> LaunchAsync(HttpClient client, object to, CancellationToken ct)
    {
        var sendAt = DateTimeOffset.UtcNow.AddDays(1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var watch = Stopwatch.StartNew();
        var response = await client.PostAsJsonAsync("/v1/Messages", new
        {
            from = new { address = Sender, channel = "SMS" },
            to = new[] { to },
            content = new { text = "Hi {{first_name}}, your {{plan}} plan renews soon." },
            schedule = new { sendAt = new[] { sendAt } },
        }, ct);
        var seconds = watch.Elapsed.TotalSeconds;
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"launch failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
        var operation = response.Headers.GetValues("operationId").Single();
        (await client.PostAsync($"/v1/Messages/Operations/{operation}/Cancel", null, ct)).EnsureSuccessStatusCode();
        return seconds;
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

    /// <summary>Realistic variables (many scripts, some ages not numbers) as a CSV a marketer would upload.</summary>
    private static void WriteCsv(string path, int rows, long offset = 0)
    {
        string[] plans = ["free", "Pro", "GOLD", "premium", "Ålesund", "enterprise"];
        string[] names = ["Zoë", "Nguyễn Văn An", "李小龍", "Anna", "José 😀", "Bob"];
        var random = new Random(42);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        writer.Write("phone,first_name,plan,age,signup_date,city,code\n");
        for (var i = 0; i < rows; i++)
        {
            var age = random.Next(50) == 0 ? "n/a" : random.Next(18, 90).ToString(CultureInfo.InvariantCulture);
            // Area codes 201 to 209, every exchange 200-999 of each: all valid US numbers but the N11 ones.
            var n = offset + i;
            var number = string.Create(CultureInfo.InvariantCulture, $"+1{201 + n / 8_000_000}{200 + n / 10_000 % 800}{n % 10_000:0000}");
            writer.Write(string.Create(CultureInfo.InvariantCulture,
                $"{number},{names[random.Next(names.Length)]},{plans[random.Next(plans.Length)]},{age},2025-{random.Next(1, 13):00}-{random.Next(1, 29):00},City {random.Next(500)},X{i}\n"));
        }
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
