using System.Diagnostics;
using System.Globalization;
using System.Text;
using BulkCampaigns.Data;
using BulkCampaigns.Recipients;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BulkCampaigns.Benchmarks.Scenarios;

/// <summary>
/// Imports a generated CSV (1,000,000 rows by default: phone in mixed national and E.164 forms, first and
/// last name with non-ASCII letters, city, plan, date; 1% invalid numbers, 1% duplicates) through the same
/// ImportService and CsvImportJob the page and the API use, beside the floor: the sqlite3 command line's
/// <c>.import</c> of the same file plus an <c>INSERT … SELECT</c> into a table of the same shape.
/// Then times a page of 50 recipients at depth 900,000 (keyset).
/// </summary>
public sealed class ImportScenario : IScenario
{
    public string Name => "import";
    public string Description => "CSV import of 1M rows into a group, beside sqlite3 .import + INSERT…SELECT; deep page fetch";

    private static readonly string[] FirstNames = ["Ann", "Zoë", "José", "Łukasz", "Søren", "Ærin", "Chloé", "Jürgen", "Ines", "Noël", "Björk", "Håkon", "María", "François", "Dvořák", "Ayşe"];
    private static readonly string[] LastNames = ["Smith", "Müller", "García", "Østergård", "Nuñez", "Kowalczyk", "O'Brien", "Ångström", "Dubois", "Çelik", "Sørensen", "Brontë"];
    private static readonly string[] Cities = ["New York", "Zürich", "São Paulo", "Kraków", "Reykjavík", "Montréal", "München", "Tromsø", "Paris, France"];
    private static readonly string[] Plans = ["free", "basic", "pro", "enterprise"];
    private static readonly int[] AreaCodes = [201, 212, 305, 415, 617, 646, 702, 713, 801, 917];

    public async Task<ScenarioResult> RunAsync(IReadOnlyDictionary<string, string> options, CancellationToken ct)
    {
        var rows = options.TryGetValue("rows", out var r) ? int.Parse(r, CultureInfo.InvariantCulture) : 1_000_000;
        var folder = Path.Combine(Path.GetTempPath(), "bulkcampaigns-bench-import-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        try
        {
            var csvPath = Path.Combine(folder, "recipients.csv");
            var (invalid, duplicates) = WriteCsv(csvPath, rows);
            Console.WriteLine($"generated {rows:N0} rows ({new FileInfo(csvPath).Length / (1024.0 * 1024.0):0.0} MB), {invalid:N0} invalid, {duplicates:N0} duplicates");

            await using var services = BuildServices(folder, rows);
            await DataSetup.MigrateAsync(services, ct);
            var groups = services.GetRequiredService<GroupService>();
            var group = await groups.CreateAsync("Benchmark", ct);
            // A running server has compiled its code paths and queries already: one small import first, not timed.
            var warmUpPath = Path.Combine(folder, "warm-up.csv");
            WriteCsv(warmUpPath, 5_000);
            var warmUp = await groups.CreateAsync("Warm-up", ct);
            await ImportAsync(services, warmUp.Key, warmUpPath, ct);

            ImportView? result = null;
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var gcBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalAllocatedBytes());
            var (elapsed, memory) = await Harness.MeasureAsync(async () =>
            {
                result = await ImportAsync(services, group.Key, csvPath, ct);
            });
            if (result is not { Status: ImportStatus.Completed })
            {
                throw new InvalidOperationException($"The import did not complete: {result?.Status} {result?.Message}");
            }
            Console.WriteLine($"import: {result.Message}");
            // CPU time beside the wall time: on a shared 2-core box the wall time moves with the load, the CPU time less so.
            Console.WriteLine($"import CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds:0.00} s, GCs gen0/1/2 {GC.CollectionCount(0) - gcBefore.Item1}/{GC.CollectionCount(1) - gcBefore.Item2}/{GC.CollectionCount(2) - gcBefore.Item3}, allocated {(GC.GetTotalAllocatedBytes() - gcBefore.Item4) / (1024.0 * 1024.0):N0} MB");

            var pageMs = await DeepPageAsync(services, groups, group.Key, Math.Min(900_000, (int)(result.Imported * 0.9)), ct);
            var floor = await FloorAsync(services, folder, csvPath, ct);

            var seconds = elapsed.TotalSeconds;
            var figures = new List<Figure>
            {
                new("import time", seconds, "s", floor, "≤ 10 s and ≤ floor", seconds <= 10 && (floor is null || seconds <= floor)),
                new("import rate", rows / seconds, "rows/s", floor is { } f ? rows / f : null),
                new("memory growth (peak working set)", memory, "MB", null, "≤ 150 MB", memory <= 150),
                new("page of 50 at depth 900,000", pageMs, "ms", null, "≤ 50 ms", pageMs <= 50),
                new("rows imported / rejected / duplicates", result.Imported, "rows", null, $"{result.Rejected:N0} rejected, {result.Duplicates:N0} duplicates"),
            };
            return Harness.Result(Name, figures, new Dictionary<string, string>
            {
                ["rows"] = rows.ToString(CultureInfo.InvariantCulture),
                ["invalid"] = invalid.ToString(CultureInfo.InvariantCulture),
                ["duplicates"] = duplicates.ToString(CultureInfo.InvariantCulture),
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

    /// <summary>Starts an import the way the page and the API do, then runs its job as the Hangfire worker would.</summary>
    private static async Task<ImportView?> ImportAsync(IServiceProvider services, long groupId, string csvPath, CancellationToken ct)
    {
        var imports = services.GetRequiredService<ImportService>();
        var upload = Stopwatch.StartNew();
        await using (var file = File.OpenRead(csvPath))
        {
            await imports.StartAsync(groupId, file, new ImportRequest(ImportMode.Upsert, "US", null, null, Path.GetFileName(csvPath)), ct);
        }
        Console.WriteLine($"{Path.GetFileName(csvPath)}: upload stored and checked in {upload.Elapsed.TotalSeconds:0.00} s");
        var importKey = ((CapturingJobClient)services.GetRequiredService<IBackgroundJobClient>()).ImportIds[^1];
        await services.GetRequiredService<CsvImportJob>().RunAsync(importKey, ct);
        return await imports.GetAsync(groupId, importKey, ct);
    }

    private static (int Invalid, int Duplicates) WriteCsv(string path, int rows)
    {
        int invalid = 0, duplicates = 0;
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        writer.Write("phone,first_name,last_name,city,plan,signup_date\n");
        for (var i = 0; i < rows; i++)
        {
            string phone;
            if (i % 100 == 37)
            {
                phone = i % 200 == 37 ? "12ab" + i.ToString(CultureInfo.InvariantCulture) : "555-01";
                invalid++;
            }
            else if (i % 100 == 73 && i >= 100)
            {
                phone = Phone(i - 50, i % 3 == 0);
                duplicates++;
            }
            else
            {
                phone = Phone(i, i % 2 == 0);
            }
            var city = Cities[i % Cities.Length];
            writer.Write(phone);
            writer.Write(',');
            writer.Write(FirstNames[i % FirstNames.Length]);
            writer.Write(',');
            writer.Write(LastNames[(i / 7) % LastNames.Length]);
            writer.Write(',');
            writer.Write(city.Contains(',', StringComparison.Ordinal) ? "\"" + city + "\"" : city);
            writer.Write(',');
            writer.Write(Plans[(i / 3) % Plans.Length]);
            writer.Write(',');
            writer.Write(new DateOnly(2020, 1, 1).AddDays(i % 2000).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            writer.Write('\n');
        }
        return (invalid, duplicates);
    }

    /// <summary>A distinct valid US number per index, written nationally ("(201) 555-0123") or in E.164.</summary>
    private static string Phone(int i, bool national)
    {
        var area = AreaCodes[i % AreaCodes.Length];
        var subscriber = 2_000_000 + ((long)(i / AreaCodes.Length) * 7919 % 7_000_000);
        var exchange = subscriber / 10_000;
        var line = subscriber % 10_000;
        return national
            ? string.Create(CultureInfo.InvariantCulture, $"({area}) {exchange:000}-{line:0000}")
            : string.Create(CultureInfo.InvariantCulture, $"+1{area}{exchange:000}{line:0000}");
    }

    private static ServiceProvider BuildServices(string folder, int rows)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:BulkCampaigns"] = $"Data Source={Path.Combine(folder, "bench.db")}",
            ["Limits:MaxGroupRecipients"] = Math.Max(1_000_000, rows).ToString(CultureInfo.InvariantCulture),
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning).AddFilter("BulkCampaigns.Recipients", LogLevel.Information).AddSimpleConsole());
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(TimeProvider.System);
        services.AddAppData(configuration, folder);
        services.AddRecipients();
        // The import job tells the live hub of its progress; nothing listens here, so the publisher is not started.
        services.AddSignalR();
        services.AddSingleton<BulkCampaigns.Live.LivePublisher>();
        services.AddSingleton<IBackgroundJobClient, CapturingJobClient>();
        return services.BuildServiceProvider();
    }

    private static async Task<double> DeepPageAsync(IServiceProvider services, GroupService groups, long groupId, int depth, CancellationToken ct)
    {
        var database = services.GetRequiredService<DatabaseConnection>();
        string after;
        await using (var connection = await database.OpenAsync(ct))
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT Address FROM Recipients WHERE GroupId = $g ORDER BY Address LIMIT 1 OFFSET $o";
            command.Parameters.AddWithValue("$g", groupId);
            command.Parameters.AddWithValue("$o", depth - 1);
            after = (string)(await command.ExecuteScalarAsync(ct))!;
        }
        var key = long.Parse(after.AsSpan(1), CultureInfo.InvariantCulture);
        await groups.RecipientsAsync(groupId, key, 51, "+", ct); // warm up
        const int runs = 20;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < runs; i++)
        {
            var page = await groups.RecipientsAsync(groupId, key, 51, "+", ct);
            if (page.Count != 51)
            {
                throw new InvalidOperationException("The deep page came back short.");
            }
        }
        return watch.Elapsed.TotalMilliseconds / runs;
    }

    /// <summary>sqlite3's own CSV import of the same file and an INSERT … SELECT into a table shaped like Recipients.</summary>
    private static async Task<double?> FloorAsync(IServiceProvider services, string folder, string csvPath, CancellationToken ct)
    {
        var ddl = new List<string>();
        await using (var connection = await services.GetRequiredService<DatabaseConnection>().OpenAsync(ct))
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT sql FROM sqlite_master WHERE tbl_name IN ('Groups', 'Recipients') AND sql IS NOT NULL ORDER BY tbl_name = 'Recipients', type = 'index'";
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                ddl.Add(reader.GetString(0) + ";");
            }
        }
        var floorDb = Path.Combine(folder, "floor.db");
        var script = new StringBuilder()
            .AppendLine("PRAGMA journal_mode=WAL;")
            .AppendLine("PRAGMA synchronous=NORMAL;")
            .AppendLine(string.Join('\n', ddl))
            .AppendLine("INSERT INTO Groups (Name, RecipientCount, AttributeKeysJson, CreatedAt, UpdatedAt) VALUES ('floor', 0, '[]', '2026-01-01', '2026-01-01');")
            .AppendLine(".mode csv")
            .AppendLine(CultureInfo.InvariantCulture, $".import '{csvPath}' stage")
            .AppendLine("INSERT OR IGNORE INTO Recipients (GroupId, Address, Channel, VariablesJson, CreatedAt) SELECT 1, phone, 'PHONE', json_object('first_name', first_name, 'last_name', last_name, 'city', city, 'plan', plan, 'signup_date', signup_date), '2026-01-01 00:00:00+00:00' FROM stage;")
            .AppendLine("SELECT count(*) FROM Recipients;")
            .ToString();
        try
        {
            var start = new ProcessStartInfo("sqlite3", [floorDb]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            var watch = Stopwatch.StartNew();
            using var process = Process.Start(start)!;
            await process.StandardInput.WriteAsync(script);
            process.StandardInput.Close();
            var output = await process.StandardOutput.ReadToEndAsync(ct);
            var errors = await process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            watch.Stop();
            Console.WriteLine($"floor (sqlite3 .import + INSERT…SELECT): {watch.Elapsed.TotalSeconds:0.00} s, rows {output.Trim().Split('\n').Last()} {errors.Trim()}");
            return watch.Elapsed.TotalSeconds;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.WriteLine("sqlite3 is not installed: no floor.");
            return null;
        }
    }

    /// <summary>Queues nothing: the scenario runs the import job itself, as a Hangfire worker would.</summary>
    private sealed class CapturingJobClient : IBackgroundJobClient
    {
        public List<long> ImportIds { get; } = [];

        public string Create(Job job, IState state)
        {
            ImportIds.Add((long)job.Args[0]);
            return ImportIds.Count.ToString(CultureInfo.InvariantCulture);
        }

        public bool ChangeState(string jobId, IState state, string expectedState) => true;
    }
}
