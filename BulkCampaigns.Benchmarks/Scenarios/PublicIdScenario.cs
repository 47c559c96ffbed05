using System.Globalization;
using BulkCampaigns.Data;

namespace BulkCampaigns.Benchmarks.Scenarios;

/// <summary>
/// Every API row carries an opaque ID; this shows encoding one costs about as much as printing the
/// row number (the floor), so lists of 1,000 rows pay nothing noticeable for hiding their sequence.
/// </summary>
public sealed class PublicIdScenario : IScenario
{
    public string Name => "publicid";
    public string Description => "opaque ID encoding per second, beside long.ToString()";

    public Task<ScenarioResult> RunAsync(IReadOnlyDictionary<string, string> options, CancellationToken ct)
    {
        var count = options.TryGetValue("rows", out var rows) ? int.Parse(rows, CultureInfo.InvariantCulture) : 5_000_000;
        var ours = Harness.PerSecond(count, i => PublicId.Encode(PublicId.Message, i).Length);
        var floor = Harness.PerSecond(count, i => ("comms_message_" + i.ToString(CultureInfo.InvariantCulture)).Length);
        var figures = new List<Figure>
        {
            new("encode", ours, "ids/s", floor, "≥ 0.5 × floor", ours >= floor * 0.5),
        };
        return Task.FromResult(Harness.Result(Name, figures, new Dictionary<string, string> { ["rows"] = count.ToString(CultureInfo.InvariantCulture) }));
    }
}
