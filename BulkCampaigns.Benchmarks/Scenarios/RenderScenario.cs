using System.Diagnostics;
using System.Globalization;
using BulkCampaigns.Content;

namespace BulkCampaigns.Benchmarks.Scenarios;

/// <summary>
/// Renders one 5-variable SMS template for N recipients' variables on one thread (one core), beside the
/// floor: plain string concatenation of the same parts with the same dictionary look-ups. Fluid's own
/// path (a new TemplateContext per render) is printed too, so the gain of the compiled path is visible.
/// </summary>
public sealed class RenderScenario : IScenario
{
    private const string Template = "Hi {{ first_name | default: 'there' }} {{ last_name }}, your code {{ code }} for {{ city | upcase }} is valid until {{ expires }}. Reply STOP to opt out.";

    public string Name => "render";
    public string Description => "renders/s of a 5-variable SMS template on one core, beside string concatenation";

    public Task<ScenarioResult> RunAsync(IReadOnlyDictionary<string, string> options, CancellationToken ct)
    {
        var count = options.TryGetValue("rows", out var rows) ? int.Parse(rows, CultureInfo.InvariantCulture) : 1_000_000;
        var recipients = new Dictionary<string, string>[count];
        string[] cities = ["Lisbon", "Oslo", "Austin", "Kyoto", "Lima"];
        for (var i = 0; i < count; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            recipients[i] = new Dictionary<string, string>(5, StringComparer.Ordinal)
            {
                ["first_name"] = i % 10 == 0 ? "" : "Name" + n,
                ["last_name"] = "Surname" + n,
                ["code"] = "C" + n,
                ["city"] = cities[i % cities.Length],
                ["expires"] = "2026-12-" + (1 + i % 28).ToString("00", CultureInfo.InvariantCulture),
            };
        }
        var renderer = new TemplateRenderer();
        var parsed = renderer.Parse(Template);

        var ours = Rate(recipients, v => renderer.Render(parsed, v, "+15550000000").Length);
        var floor = Rate(recipients, v =>
        {
            var first = v["first_name"];
            return string.Concat(["Hi ", first.Length == 0 ? "there" : first, " ", v["last_name"], ", your code ", v["code"], " for ",
                v["city"].ToUpperInvariant(), " is valid until ", v["expires"], ". Reply STOP to opt out."]).Length;
        });
        // Fluid's default path is slower: measured on a tenth of the rows so the run stays short.
        var fluidRows = recipients.AsSpan(0, Math.Max(1, count / 10)).ToArray();
        var fluid = Rate(fluidRows, v => renderer.RenderWithFluid(parsed, v, "+15550000000").Length);

        // What a dispatch job does per message: render, then count the segments to pace by them.
        var withCount = Rate(recipients, v => SmsSegments.Count(renderer.Render(parsed, v, "+15550000000")).Segments);

        var figures = new List<Figure>
        {
            new("render (compiled path)", ours, "renders/s", floor, "≥ 1,000,000 renders/s on one core", ours >= 1_000_000),
            new("render (Fluid, new context each)", fluid, "renders/s", floor),
            new("render + count segments", withCount, "msgs/s", floor),
        };
        return Task.FromResult(Harness.Result(Name, figures, new Dictionary<string, string>
        {
            ["rows"] = count.ToString(CultureInfo.InvariantCulture),
            ["template"] = Template,
            ["compiled"] = TemplateRenderer.IsCompiled(parsed).ToString(),
        }));
    }

    /// <summary>
    /// Best of five passes over every recipient, after a warm-up long enough for the JIT to finish
    /// tiering and with a settled heap, so the figure is the steady rate a dispatch job sees.
    /// </summary>
    private static double Rate(Dictionary<string, string>[] recipients, Func<Dictionary<string, string>, int> work)
    {
        long sink = 0;
        for (var round = 0; round < 4; round++)
        {
            for (var i = 0; i < Math.Min(recipients.Length, 100_000); i++)
            {
                sink += work(recipients[i]);
            }
            Thread.Sleep(100); // lets the background JIT install the optimized code
        }
        var best = double.MaxValue;
        for (var pass = 0; pass < 5; pass++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var watch = Stopwatch.StartNew();
            foreach (var variables in recipients)
            {
                sink += work(variables);
            }
            watch.Stop();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        GC.KeepAlive(sink);
        return recipients.Length / best;
    }
}
