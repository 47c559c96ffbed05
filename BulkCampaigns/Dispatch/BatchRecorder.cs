using BulkCampaigns.Data;
using BulkCampaigns.Operations;
using Hangfire;

namespace BulkCampaigns.Dispatch;

/// <summary>The record step: writes a stretch of outcomes (at most a second's or a batch's) and tells who is waiting.</summary>
public sealed class BatchRecorder(IEngineStore store, OperationProgress progress, FailureWindows failures, Operating.OperationLog opLog, IBackgroundJobClient jobs, TimeProvider clock)
{
    /// <summary>Writes the settled messages of <paramref name="done"/> (SENDING ones stay for the settlement) in one transaction.</summary>
    public async Task RecordAsync(long operationId, List<BatchMessage> done, CancellationToken ct)
    {
        var settled = done.Where(p => p.Final != MessageStatus.Sending).ToList();
        if (settled.Count == 0)
        {
            return;
        }
        var recorded = await store.RecordAsync(operationId, settled, UnixMs.Now(clock), ct);
        foreach (var p in settled)
        {
            p.Written = true;
        }
        await AfterAsync(operationId, recorded);
    }

    /// <summary>Ends a claimed range left in flight, the provider asked (<see cref="IEngineStore.SettleClaimAsync"/>).</summary>
    public async Task SettleClaimAsync(long operationId, long claimId, List<BatchMessage> received, CancellationToken ct)
    {
        await AfterAsync(operationId, await store.SettleClaimAsync(operationId, claimId, received, UnixMs.Now(clock), ct));
    }

    private async Task AfterAsync(long operationId, RecordedOutcomes recorded)
    {
        progress.Publish(operationId);
        foreach (var (from, to) in recorded.Requeue)
        {
            // Another run of this range was refused while this one held it (messages queued into it since, say).
            jobs.Enqueue<DispatchJobs>(j => j.SendBatchAsync(operationId, from, to, CancellationToken.None));
        }
        if (recorded.Completed)
        {
            failures.Reset(operationId);
            await opLog.CompletedAsync(operationId, CancellationToken.None);
        }
    }
}
