using System.Globalization;
using System.Security.Cryptography;
using BulkCampaigns.Links;

namespace BulkCampaigns.Benchmarks.Scenarios;

/// <summary>
/// What one tracked link's code costs while a campaign renders: the sealed code (AES-128 on the processor's
/// instructions) beside the plainest code (the message ID in decimal, guessable; the floor) and the HMAC-SHA256 codes
/// made before 2026-12-02, each on one core over consecutive message IDs as a campaign has them.
/// </summary>
public sealed class LinkCodesScenario : IScenario
{
    public string Name => "linkcodes";
    public string Description => "tracked-link codes per second (AES), beside a plain decimal code and the earlier HMAC codes";

    public Task<ScenarioResult> RunAsync(IReadOnlyDictionary<string, string> options, CancellationToken ct)
    {
        var count = options.TryGetValue("rows", out var rows) ? int.Parse(rows, CultureInfo.InvariantCulture) : 2_000_000;
        var codes = new LinkCodes(RandomNumberGenerator.GetBytes(32));
        var ours = Harness.PerSecond(count, i => codes.Encode(i, (int)(i & 1)).Length, 1_000_000);
        var before = Harness.PerSecond(count, i => codes.EncodeAsBefore(i, (int)(i & 1)).Length, 1_000_000);
        var floor = Harness.PerSecond(count, i => (i * LinkCodes.MaxLinksPerMessage + (i & 1)).ToString(CultureInfo.InvariantCulture).Length, 1_000_000);
        var decode = Harness.PerSecond(count / 4, i => codes.TryDecode(codes.Encode(i, 0), out _, out _) ? 1 : 0, 1_000_000);
        var figures = new List<Figure>
        {
            new("encode (AES-128)", ours, "codes/s", floor),
            new("encode as before (HMAC-SHA256)", before, "codes/s", floor),
            new("encode + decode (AES-128)", decode, "codes/s"),
            new("one code (AES-128)", 1e6 / ours, "µs"),
            new("one code as before (HMAC-SHA256)", 1e6 / before, "µs"),
        };
        var parameters = new Dictionary<string, string>
        {
            ["rows"] = count.ToString(CultureInfo.InvariantCulture),
            ["processor AES instructions"] = new Aes128Block(new byte[Aes128Block.Size]).UsesProcessorInstructions ? "yes" : "no (OpenSSL per block)",
        };
        return Task.FromResult(Harness.Result(Name, figures, parameters));
    }
}
