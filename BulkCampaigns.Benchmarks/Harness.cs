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

public sealed record ScenarioResult(string Scenario, string Machine, DateTimeOffset RanAt, IReadOnlyList<Figure> Figures, IReadOnlyDictionary<string, string> Parameters)
{
    /// <summary>Every measured run, when the scenario measures runs (cold and warm).</summary>
    public IReadOnlyList<Run>? Runs { get; init; }

    /// <summary>The one-node and two-node runs side by side, when the scenario compares them (dispatch <c>--nodes 2</c>); left out of the JSON otherwise.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Scenarios.NodesRun>? Nodes { get; init; }
}

/// <summary>
/// One measured run. <paramref name="Phase"/> is <c>cold</c> (the first work of a freshly started app process) or
/// <c>warm</c> (the same work after a small warm-up in that process). The load average (1, 5, 15 minutes, from
/// /proc/loadavg) is read at the start and at the end of the run; the floor is run right after it.
/// </summary>
public sealed record Run(string Phase, int Number, double Seconds, double? FloorSeconds, double MemoryGrowthMb, string LoadAtStart, string LoadAtEnd, string Outcome)
{
    public double? Ratio => FloorSeconds is > 0 ? Seconds / FloorSeconds : null;
}

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

    /// <summary>Prints every run and, per phase, the range of its figures.</summary>
    public static void PrintRuns(IReadOnlyList<Run> runs, TextWriter output)
    {
        output.WriteLine("| phase | run | ours | floor | ours/floor | memory growth | load at start → end | outcome |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in runs)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Phase} | {r.Number} | {r.Seconds:0.00} s | {(r.FloorSeconds is { } f ? f.ToString("0.00", CultureInfo.InvariantCulture) + " s" : "–")} | {(r.Ratio is { } q ? q.ToString("0.00", CultureInfo.InvariantCulture) : "–")} | {r.MemoryGrowthMb:0} MB | {r.LoadAtStart} → {r.LoadAtEnd} | {r.Outcome} |"));
        }
    }

    /// <summary>The summary figures of the runs of one phase: time (beside the floor of the same runs), ratio and memory, as ranges.</summary>
    public static IEnumerable<Figure> PhaseFigures(IReadOnlyList<Run> runs, string phase, string what, double? targetSeconds, double? maxRatio, double targetMb)
    {
        var these = runs.Where(r => r.Phase == phase).ToList();
        if (these.Count == 0)
        {
            yield break;
        }
        var worst = these.Max(r => r.Seconds);
        var floors = these.Where(r => r.FloorSeconds is not null).Select(r => r.FloorSeconds!.Value).ToList();
        var ratios = these.Where(r => r.Ratio is not null).Select(r => r.Ratio!.Value).ToList();
        var memory = these.Max(r => r.MemoryGrowthMb);
        var target = string.Join(", ", new[] { targetSeconds is { } t ? $"≤ {t:0} s" : null, maxRatio is { } m ? $"ratio ≤ {m:0.0}" : null }.Where(x => x is not null));
        yield return new Figure($"{what}, {phase}, worst of {these.Count}", worst, "s", floors.Count > 0 ? floors.Max() : null, target.Length > 0 ? target : null,
            (targetSeconds is null || worst <= targetSeconds) && (maxRatio is null || ratios.Count == 0 || ratios.Max() <= maxRatio));
        yield return new Figure($"{what}, {phase}, best of {these.Count}", these.Min(r => r.Seconds), "s", floors.Count > 0 ? floors.Min() : null);
        if (ratios.Count > 0)
        {
            yield return new Figure($"{what}, {phase}, ours/floor per run (worst)", ratios.Max(), "×", null, maxRatio is { } mr ? $"≤ {mr:0.0}" : null, maxRatio is null ? null : ratios.Max() <= maxRatio);
        }
        yield return new Figure($"{what}, {phase}, app memory growth (worst)", memory, "MB", null, $"≤ {targetMb:0} MB", memory <= targetMb);
    }

    /// <summary>The 1, 5 and 15 minute load averages, as /proc/loadavg gives them ("–" where there is none).</summary>
    /// <summary>
    /// How many times a second <paramref name="work"/> runs on one core, over <paramref name="count"/> calls after
    /// 100,000 to warm up (the JIT's tiers): calls pass <paramref name="offset"/> + 1, + 2, … as consecutive IDs.
    /// </summary>
    public static double PerSecond(int count, Func<long, int> work, long offset = 0)
    {
        long sink = 0;
        for (var i = 1; i < 100_000; i++)
        {
            sink += work(i);
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (long i = 1; i <= count; i++)
        {
            sink += work(offset + i);
        }
        watch.Stop();
        GC.KeepAlive(sink);
        return count / watch.Elapsed.TotalSeconds;
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "–";
        }
    }

    public static async Task SaveAsync(ScenarioResult result, string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, result.Scenario + ".json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(result, JsonOptions));
        Console.WriteLine($"written: {path}");
    }

    private static string Format(double value) => value switch
    {
        >= 1000 => value.ToString("#,0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.000", CultureInfo.InvariantCulture),
    };
}
