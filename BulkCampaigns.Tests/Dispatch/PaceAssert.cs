using Xunit.Abstractions;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>What the receive times of a paced run must show: held at the rate, and never above it in any second.</summary>
public static class PaceAssert
{
    /// <param name="times">When the Simulator received each send, in order.</param>
    /// <param name="mps">The rate the run was paced at.</param>
    /// <param name="chunk">How many sends go together in one turn (mps/20, at least 1).</param>
    public static void HeldAndNeverExceeded(IReadOnlyList<DateTimeOffset> times, int mps, int chunk, ITestOutputHelper output)
    {
        Assert.True(times.Count > 2 * mps, $"{times.Count} sends are too few to judge a pace of {mps} per second");
        // How long each run of mps sends took: one second when the pace is held.
        var seconds = Enumerable.Range(0, times.Count - mps).Select(i => (times[i + mps] - times[i]).TotalSeconds).Order().ToList();
        var gaps = Enumerable.Range(1, times.Count - 1).Select(i => (times[i] - times[i - 1]).TotalMilliseconds).OrderDescending().Take(5);
        var median = seconds[seconds.Count / 2];
        output.WriteLine($"{times.Count} sends in {(times[^1] - times[0]).TotalSeconds:0.000} s at {mps}/s. " +
            $"Seconds per {mps} sends: fastest {seconds[0]:0.000}, median {median:0.000}, slowest {seconds[^1]:0.000}. " +
            $"Longest gaps (ms): {string.Join(", ", gaps.Select(g => g.ToString("0")))}");
        // Never above: no one-second window holds more than the rate (plus one chunk of rounding).
        for (var i = 0; i < times.Count; i++)
        {
            var inWindow = times.Skip(i).TakeWhile(t => t < times[i].AddSeconds(1)).Count();
            Assert.True(inWindow <= mps + chunk, $"{inWindow} sends within one second from {times[i]:O}");
        }
        // Held: most seconds carry the whole rate. The median, not the whole span, because a loaded machine (a CI run
        // on 2 cores) stalls a process now and then for a few hundred milliseconds, which a pacer that never
        // bursts to catch up cannot win back.
        Assert.InRange(median, 0.95, 1.2);
    }
}
