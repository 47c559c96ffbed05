using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Operations;

/// <summary>
/// Controls an operation for the pages and the API: pause, resume, cancel and retry. The moves themselves are the
/// engine's (<see cref="OperationRunner"/>, <see cref="IEngineStore"/>); creating one is <see cref="OperationCreation"/>.
/// </summary>
public sealed class OperationService(
    IDbContextFactory<AppDbContext> dbFactory,
    IEngineStore store,
    OperationRunner runner,
    OperationProgress progress,
    TimeProvider clock,
    Operating.OperationLog opLog)
{
    /// <summary>Stops new sends within a second; the place is kept (messages stay QUEUED).</summary>
    public Task<ControlResult> PauseAsync(long operationId, string? reason = null, CancellationToken ct = default) =>
        runner.PauseAsync(operationId, reason, ct);

    public async Task<ControlResult> ResumeAsync(long operationId, CancellationToken ct = default)
    {
        // A scheduled operation paused before its time goes back to waiting for it; after its time it starts now.
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var waiting = await db.Set<Operation>().AsNoTracking().Where(o => o.Id == operationId)
                .Select(o => new { o.SendAt, o.Scheduled }).FirstOrDefaultAsync(ct);
            if (waiting is { SendAt: { } sendAt, Scheduled: > 0 } && sendAt > clock.GetUtcNow())
            {
                var rescheduled = await runner.TransitionAsync(operationId, [OperationStatus.Paused], OperationStatus.Scheduled, null, ct);
                if (rescheduled == ControlResult.Done)
                {
                    runner.ScheduleStart(operationId, sendAt);
                    await opLog.ResumedAsync(operationId, ct);
                }
                return rescheduled;
            }
        }
        var result = await runner.TransitionAsync(operationId, [OperationStatus.Paused], OperationStatus.Processing, null, ct);
        if (result == ControlResult.Done)
        {
            await store.MoveMessagesAsync(operationId, MessageStatus.Scheduled, MessageStatus.Queued, ct);
            await opLog.ResumedAsync(operationId, ct);
            await runner.EnqueueBatchesAsync(operationId, ct);
            await runner.CompleteIfDoneAsync(operationId, ct);
        }
        return result;
    }

    /// <summary>Marks every message not yet handed to the provider CANCELED.</summary>
    public async Task<ControlResult> CancelAsync(long operationId, CancellationToken ct = default)
    {
        var result = await runner.TransitionAsync(operationId, [OperationStatus.Processing, OperationStatus.Scheduled, OperationStatus.Paused], OperationStatus.Canceled, null, ct);
        if (result == ControlResult.Done)
        {
            await store.MoveMessagesAsync(operationId, MessageStatus.Scheduled, MessageStatus.Canceled, ct);
            // An A/B test's rest, held for its winner, is canceled with the rest.
            await store.MoveMessagesAsync(operationId, MessageStatus.Held, MessageStatus.Canceled, ct);
            await store.MoveMessagesAsync(operationId, MessageStatus.Queued, MessageStatus.Canceled, ct);
            progress.Publish(operationId);
            await opLog.CanceledAsync(operationId, ct);
        }
        return result;
    }

    /// <summary>Re-queues FAILED messages whose error is retryable, and sends them.</summary>
    public async Task<ControlResult> RetryAsync(long operationId, CancellationToken ct = default)
    {
        var status = await store.ReadStatusAsync(operationId, ct);
        if (status is null)
        {
            return ControlResult.NotFound;
        }
        if (status is OperationStatus.Canceled or OperationStatus.Scheduled)
        {
            return ControlResult.NotAllowed;
        }
        var moved = await store.MoveMessagesAsync(operationId, MessageStatus.Failed, MessageStatus.Queued, ct,
            onlyRetryable: true, reopen: status == OperationStatus.Completed);
        if (moved == 0)
        {
            return ControlResult.NotAllowed;
        }
        if (status != OperationStatus.Paused)
        {
            await runner.EnqueueBatchesAsync(operationId, ct);
        }
        progress.Publish(operationId);
        return ControlResult.Done;
    }
}
