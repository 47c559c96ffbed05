using System.Text;
using BulkCampaigns.Tests.Infrastructure;
using Xunit.Abstractions;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.SeveralNodes;

/// <summary>Two nodes that both send, on one sender: its MPS is the nodes' together.</summary>
[Collection(SeveralNodesCollection.Name)]
public sealed class SharedSenderPaceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task One_operation_of_20000_on_a_500_MPS_sender_sent_by_two_nodes_goes_at_500_a_second_never_above_each_recipient_once()
    {
        const int total = 20_000;
        const int mps = 500;
        const string from = "+14155550720";
        await using var pair = await NodePair.StartAsync(aRunsJobs: true);
        var api = pair.A.Client;
        await CreateSenderAsync(api, from, mps);
        var csv = new StringBuilder("phone\n");
        for (var i = 0; i < total; i++)
        {
            csv.Append(Number(i)).Append('\n');
        }
        var (groupId, importId) = await NodePair.ImportAsync(api, "Twenty thousand", csv.ToString());
        Assert.Equal(total, (await NodePair.WaitImportedAsync(api, groupId, importId)).GetProperty("imported").GetInt32());

        var id = await SendAsync(api, new { from = new { address = from }, to = new[] { new { groupId } }, content = new { text = "Two nodes, one pace" } });
        var op = await WaitForStatusAsync(api, id, "COMPLETED", 300);

        // Each recipient once, counts adding up, and both nodes took part.
        Assert.Equal(total, Stat(op, "sent") + Stat(op, "delivered"));
        AssertStatsAddUp(op);
        var times = await pair.ReceivedAtAsync(from);
        Assert.Equal(total, times.Count);
        Assert.Equal(total, await pair.DistinctRecipientsAsync(from));
        var onA = NodePair.BatchesRun(pair.A, id);
        var onB = NodePair.BatchesRun(pair.B, id);
        output.WriteLine($"batches run: node A {onA}, node B {onB}");
        Assert.True(onA > 0 && onB > 0, $"both nodes should send: A ran {onA} batches, B {onB}");

        // The pace from the Simulator's own receipt times (ms): the slope of sends against time (least squares), so a
        // stamp that came late at either end of the run (a stalled moment under load) does not bend it.
        var span = (times[^1] - times[0]) / 1000.0;
        var rate = Slope(times);
        // Never above over the run (asserted below, +0.2 % for rounding). Over any 10 s it
        // stays inside the ±3 % band: a chunk is a 1/20 s burst by design, and the Simulator stamps a send after the
        // turn and its own simulated latency, which a loaded machine delays now and then (by up to ~200 ms at a load of
        // 60), so a window that starts on a late stamp looks that much fuller although the turns themselves kept the rate.
        var busiest10s = Busiest(times, 10_000);
        var busiest1s = Busiest(times, 1_000);
        output.WriteLine($"{times.Count} sends in {span:0.000} s: {rate:0.0}/s; busiest 10 s: {busiest10s}; busiest 1 s: {busiest1s}");
        Assert.InRange(rate, mps * 0.97, mps * 1.0 + 1);
        Assert.True(busiest10s <= mps * 10 * 1.03, $"{busiest10s} sends within 10 s");
    }

    /// <summary>Sends per second: the least-squares slope of the send count against the receipt times (ms).</summary>
    private static double Slope(List<long> times)
    {
        var meanTime = times.Average(t => (double)t);
        var meanIndex = (times.Count - 1) / 2.0;
        double covariance = 0, variance = 0;
        for (var i = 0; i < times.Count; i++)
        {
            var dt = times[i] - meanTime;
            covariance += dt * (i - meanIndex);
            variance += dt * dt;
        }
        return covariance / variance * 1000;
    }

    /// <summary>The most sends in any window of <paramref name="windowMs"/> starting at a send.</summary>
    private static int Busiest(List<long> times, long windowMs)
    {
        var most = 0;
        var end = 0;
        for (var start = 0; start < times.Count; start++)
        {
            while (end < times.Count && times[end] < times[start] + windowMs)
            {
                end++;
            }
            most = Math.Max(most, end - start);
        }
        return most;
    }
}
