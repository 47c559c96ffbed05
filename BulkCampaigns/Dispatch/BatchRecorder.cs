using BulkCampaigns.Data;
using BulkCampaigns.Operations;

namespace BulkCampaigns.Dispatch;

/// <summary>The record step: writes a stretch of outcomes (at most a second's or a batch's) and tells who is waiting.</summary>
public sealed class BatchRecorder(IEngineStore store, OperationProgress progress, FailureWindows failures, Operating.OperationLog opLog, TimeProvider clock)
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
        progress.Publish(operationId);
        if (recorded.Completed)
        {
            failures.Reset(operationId);
            await opLog.CompletedAsync(operationId, CancellationToken.None);
        }
    }
}
