using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace BulkCampaigns.Benchmarks;

/// <summary>One measured figure, printed beside the floor it is compared with.</summary>
/// <param name="Name">What was measured.</param>
/// <param name="Value">Our figure.</param>
/// <param name="Unit">Its unit, e.g. "s", "rows/s", "MB".</param>
/// <param name="Floor">The same work done the plainest way (sqlite3, string concatenation …), when there is one.</param>
/// <param name="Target">The product's target, in words (e.g. "≤ 10 s").</param>
/// <param name="Met">Whether the target was met, when it can be judged.</param>
public sealed record Figure(string Name, double Value, string Unit, double? Floor = null, string? Target = null, bool? Met = null)
{
    /// <summary>Value ÷ floor: for times below 1 is faster than the floor, for rates above 1 is.</summary>
    public double? Ratio => Floor is > 0 ? Value / Floor : null;
}

public sealed record ScenarioResult(string Scenario, string Machine, DateTimeOffset RanAt, IReadOnlyList<Figure> Figures, IReadOnlyDictionary<string, string> Parameters);

public interface IScenario
{
    string Name { get; }
    string Description { get; }

    /// <summary>Runs the scenario; <paramref name="options"/> holds <c>--key value</c> pairs from the command line.</summary>
    Task<ScenarioResult> RunAsync(IReadOnlyDictionary<string, string> options, CancellationToken ct);
}

public static class Harness
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string Machine => $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024 * 1024)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";

    public static ScenarioResult Result(string scenario, IReadOnlyList<Figure> figures, IReadOnlyDictionary<string, string> parameters) =>
        new(scenario, Machine, DateTimeOffset.UtcNow, figures, parameters);

    public static void Print(ScenarioResult result, TextWriter output)
    {
        output.WriteLine($"scenario: {result.Scenario}   machine: {result.Machine}");
        if (result.Parameters.Count > 0)
        {
            output.WriteLine("parameters: " + string.Join(", ", result.Parameters.Select(p => $"{p.Key}={p.Value}")));
        }
        var rows = result.Figures.Select(f => new[]
        {
            f.Name,
            Format(f.Value) + " " + f.Unit,
            f.Floor is { } floor ? Format(floor) + " " + f.Unit : "–",
            f.Ratio is { } ratio ? ratio.ToString("0.00", CultureInfo.InvariantCulture) : "–",
            f.Target ?? "–",
            f.Met switch { true => "yes", false => "NO", null => "–" },
        }).ToList();
        string[] header = ["figure", "ours", "floor", "ours/floor", "target", "met"];
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        void Line(string[] cells) => output.WriteLine("| " + string.Join(" | ", cells.Select((c, i) => c.PadRight(widths[i]))) + " |");
        Line(header);
        output.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        rows.ForEach(Line);
    }

    public static async Task SaveAsync(ScenarioResult result, string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, result.Scenario + ".json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(result, JsonOptions));
        Console.WriteLine($"written: {path}");
    }

    /// <summary>Times an action and reports the growth of the process's peak working set during it.</summary>
    public static async Task<(TimeSpan Elapsed, double PeakGrowthMb)> MeasureAsync(Func<Task> action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var before = process.WorkingSet64;
        long peak = before;
        long peakCommitted = GC.GetGCMemoryInfo().TotalCommittedBytes;
        var committedBefore = peakCommitted;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var self = Process.GetCurrentProcess();
            while (!sampling.IsCancellationRequested)
            {
                self.Refresh();
                peak = Math.Max(peak, self.WorkingSet64);
                peakCommitted = Math.Max(peakCommitted, GC.GetGCMemoryInfo().TotalCommittedBytes);
                try
                {
                    await Task.Delay(20, sampling.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
        var watch = Stopwatch.StartNew();
        await action();
        watch.Stop();
        await sampling.CancelAsync();
        await sampler;
        Console.WriteLine($"GC committed: {committedBefore / 1048576.0:0} MB before, peak {peakCommitted / 1048576.0:0} MB; working set {before / 1048576.0:0} MB before, peak {peak / 1048576.0:0} MB");
        return (watch.Elapsed, (peak - before) / (1024.0 * 1024.0));
    }

    private static string Format(double value) => value switch
    {
        >= 1000 => value.ToString("#,0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.000", CultureInfo.InvariantCulture),
    };
}
