using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BulkCampaigns.Content;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// How an A/B operation splits its audience (docs/api.md: A/B variants). Each recipient gets two 32-bit numbers from the
/// MD5 of "operation id:address" (<see cref="Bucket"/>). With a test, the audience ordered by the second number is cut at
/// the share: those before it are the test, the rest are held for the winner. Then the messages to send, ordered by the
/// first number, are cut by the weights. Cutting an order (not each number on its own) gives every variant its weight's
/// share to the recipient (±1 of the exact count), and the order is the hash's, so the same operation and address always
/// land in the same place whatever order the rows were written in. Both databases compute it in SQL the same way (SQLite
/// through a function of this class, PostgreSQL with its own <c>md5</c>); <see cref="AssignAll"/> is the same in C#.
/// </summary>
public sealed class VariantPlan
{
    /// <summary>2^32: one bucket number per possible 32-bit value.</summary>
    private const double Span = 4294967296.0;

    private VariantPlan(IReadOnlyList<ContentVariant> variants, VariantTest? test, bool trackLinks)
    {
        Names = variants.Select(v => v.Name!).ToList();
        Weights = variants.Select(v => v.Weight!.Value).ToList();
        // trackLinks beside the variants (the wizard's switch) tracks every variant's links.
        Contents = variants.Select(v => (trackLinks && !v.Content!.TrackLinks ? WithTracking(v.Content) : v.Content!).ToJson()).ToList();
        var total = Weights.Sum();
        var upper = new long[Weights.Count];
        double sum = 0;
        for (var i = 0; i < upper.Length; i++)
        {
            sum += Weights[i];
            upper[i] = i == upper.Length - 1 ? (long)Span : (long)Math.Round(sum / total * Span);
        }
        Upper = upper;
        if (test is { Share: { } share } && ContentRules.TryReadDuration(test.DecideAfter, out var wait))
        {
            TestCutoff = (long)Math.Round(share / 100 * Span);
            DecideAfter = wait;
            Metric = test.Metric ?? ContentRules.MetricDelivered;
        }
    }

    public IReadOnlyList<string> Names { get; }
    public IReadOnlyList<double> Weights { get; }

    /// <summary>Each variant's content, as stored (the JSON <see cref="ChannelContent.Resolve"/> reads).</summary>
    public IReadOnlyList<string> Contents { get; }

    /// <summary>Variant i takes the first buckets below <c>Upper[i]</c> not taken by an earlier one.</summary>
    public IReadOnlyList<long> Upper { get; }

    /// <summary>With a test: recipients placed below this by their second bucket (<see cref="Position"/>) are the test share.</summary>
    public long? TestCutoff { get; }
    public TimeSpan? DecideAfter { get; }
    public string? Metric { get; }

    /// <summary>The plan of an operation's stored content; null when it has no variants.</summary>
    public static VariantPlan? Of(string contentJson)
    {
        if (!contentJson.Contains("\"variants\"", StringComparison.Ordinal))
        {
            return null;
        }
        var content = MessageContent.FromJson(contentJson);
        return content.Variants is { Count: > 0 } variants ? new VariantPlan(variants, content.Test, content.TrackLinks) : null;
    }

    private static MessageContent WithTracking(MessageContent content)
    {
        var copy = content.Clone();
        copy.TrackLinks = true;
        return copy;
    }

    /// <summary>Bucket number <paramref name="part"/> (0: variant, 1: test share) of a recipient: 0 to 2^32 − 1.</summary>
    public static long Bucket(long operationId, string address, int part)
    {
        Span<byte> hash = stackalloc byte[16];
        // Not for secrecy: MD5 spreads addresses evenly and PostgreSQL computes the same one in SQL (md5), so both
        // databases split an audience alike.
#pragma warning disable CA5351
        MD5.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{operationId}:{address}")), hash);
#pragma warning restore CA5351
        return BinaryPrimitives.ReadUInt32BigEndian(hash.Slice(part * 4, 4));
    }

    /// <summary>The variant at a place (or of a bucket number: the renderer's fallback for a message written without one).</summary>
    public int Pick(long bucket)
    {
        for (var i = 0; i < Upper.Count; i++)
        {
            if (bucket < Upper[i])
            {
                return i;
            }
        }
        return Upper.Count - 1;
    }

    /// <summary>The place in 0 … 2^32 − 1 of the <paramref name="rank"/>-th (from 1) of <paramref name="count"/>: what <see cref="Pick"/> and the test's cut read.</summary>
    public static long Position(long rank, long count) => (rank - 1) * (long)Span / count;

    /// <summary>
    /// The split of an operation's messages to send (ID and address), as the stores write it: each one's variant, or
    /// null when the test holds it for the winner.
    /// </summary>
    public Dictionary<long, int?> AssignAll(long operationId, IReadOnlyCollection<(long Id, string Address)> messages)
    {
        var split = new Dictionary<long, int?>(messages.Count);
        var sent = messages.ToList();
        if (TestCutoff is { } cutoff)
        {
            var byTest = messages.OrderBy(m => Bucket(operationId, m.Address, 1)).ThenBy(m => m.Id).ToList();
            sent = [];
            for (var i = 0; i < byTest.Count; i++)
            {
                if (Position(i + 1, byTest.Count) < cutoff)
                {
                    sent.Add(byTest[i]);
                }
                else
                {
                    split[byTest[i].Id] = null;
                }
            }
        }
        var byVariant = sent.OrderBy(m => Bucket(operationId, m.Address, 0)).ThenBy(m => m.Id).ToList();
        for (var i = 0; i < byVariant.Count; i++)
        {
            split[byVariant[i].Id] = Pick(Position(i + 1, byVariant.Count));
        }
        return split;
    }

    /// <summary>The SQL of <see cref="Position"/> over a row number and a count.</summary>
    public static string PositionSql(string rank, string count) => $"(({rank} - 1) * {(long)Span}) / {count}";

    /// <summary>The same choice as <see cref="Pick"/>, in SQL, over a place expression (numbers only: nothing of a request is written in).</summary>
    public string PickSql(string bucket)
    {
        var sql = new StringBuilder("CASE");
        for (var i = 0; i < Upper.Count - 1; i++)
        {
            sql.Append(CultureInfo.InvariantCulture, $" WHEN {bucket} < {Upper[i]} THEN {i}");
        }
        sql.Append(CultureInfo.InvariantCulture, $" ELSE {Upper.Count - 1} END");
        return sql.ToString();
    }
}
