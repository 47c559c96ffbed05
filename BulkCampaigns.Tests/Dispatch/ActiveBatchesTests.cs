using BulkCampaigns.Dispatch;

namespace BulkCampaigns.Tests.Dispatch;

public sealed class ActiveBatchesTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(20);

    [Fact]
    public void A_running_batch_whose_claim_was_not_renewed_has_lost_its_lease_and_may_not_send()
    {
        var active = new ActiveBatches();
        using var kept = active.Enter(1, 1, 100);
        using var taken = active.Enter(1, 101, 200);
        kept.Claimed(10, System.Diagnostics.Stopwatch.GetTimestamp(), Window);
        taken.Claimed(11, System.Diagnostics.Stopwatch.GetTimestamp(), Window);

        var lost = active.Renewed(System.Diagnostics.Stopwatch.GetTimestamp(), active.ClaimIds(), new HashSet<long> { 10 }, Window);

        Assert.Equal(1, lost);
        Assert.True(taken.Lost.IsCancellationRequested);
        Assert.False(taken.MaySend);
        Assert.False(kept.Lost.IsCancellationRequested);
        Assert.True(kept.MaySend);
    }

    [Fact]
    public void A_batch_writing_its_last_results_deleted_its_own_claim_and_is_not_counted_as_lost()
    {
        var active = new ActiveBatches();
        using var done = active.Enter(1, 1, 100);
        done.Claimed(10, System.Diagnostics.Stopwatch.GetTimestamp(), Window);
        var asked = active.ClaimIds();
        // Between the heartbeat's question and its answer the batch handed its last message over and wrote it.
        done.Finishing();

        var lost = active.Renewed(System.Diagnostics.Stopwatch.GetTimestamp(), asked, new HashSet<long>(), Window);

        Assert.Equal(0, lost);
        Assert.False(done.Lost.IsCancellationRequested);
    }
}
