using BulkCampaigns.Data;
using BulkCampaigns.Operations;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// What the engine does to an operation as a whole: start it (now or at its time), queue its batches, complete it
/// when nothing is left, and move it between statuses, waking its running batches at once on pause or cancel.
/// The batches, the start-up and the sweep use it, and so do <c>Operations</c>' controls; it knows nothing of them.
/// </summary>
public sealed class OperationRunner(
    IEngineStore store,
    IDbContextFactory<AppDbContext> dbFactory,
    IBackgroundJobClient jobs,
    OperationSignals signals,
    OperationProgress progress,
    IOptions<DispatchOptions> options,
    Operating.OperationLog opLog)
{
    /// <summary>A new operation: its batches queued now, or its start scheduled for <paramref name="startAt"/>.</summary>
    /// <remarks>An A/B test's decision is scheduled for <paramref name="decideAt"/> (stored with the operation too).</remarks>
    public async Task LaunchAsync(long operationId, DateTimeOffset? startAt, CancellationToken ct, DateTimeOffset? decideAt = null)
    {
        // Logged before its batches are queued: a small operation may complete before this method returns, and its
        // "completed" line must come after, and only once (the engine writes it).
        await opLog.MadeAsync(operationId, ct);
        if (startAt is { } at)
        {
            ScheduleStart(operationId, at);
        }
        else
        {
            await EnqueueBatchesAsync(operationId, ct);
        }
        if (decideAt is { } decide)
        {
            jobs.Schedule<VariantWinner>(w => w.DecideAsync(operationId, CancellationToken.None), decide);
        }
        progress.Publish(operationId);
    }

    public void ScheduleStart(long operationId, DateTimeOffset at) =>
        jobs.Schedule<DispatchJobs>(j => j.StartAsync(operationId, CancellationToken.None), at);

    /// <summary>Queues one job per slice of the operation's message IDs. Safe to call again: a job claims only QUEUED messages.</summary>
    public async Task EnqueueBatchesAsync(long operationId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var op = await db.Set<Operation>().AsNoTracking()
            .Where(o => o.Id == operationId)
            .Select(o => new { o.Status, o.FirstMessageId, o.LastMessageId })
            .FirstOrDefaultAsync(ct);
        if (op is null || op.Status != OperationStatus.Processing || op.LastMessageId == 0)
        {
            return;
        }
        var size = BatchSize;
        for (var start = op.FirstMessageId; start <= op.LastMessageId; start += size)
        {
            EnqueueRange(operationId, start, Math.Min(op.LastMessageId, start + size - 1));
        }
    }

    /// <summary>
    /// Queues again only the slices that still hold QUEUED messages (<see cref="StallRescue"/>); none: the operation is
    /// completed if nothing is left. Returns how many slices were queued.
    /// </summary>
    public async Task<int> EnqueueQueuedRangesAsync(long operationId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var op = await db.Set<Operation>().AsNoTracking()
            .Where(o => o.Id == operationId && o.Status == OperationStatus.Processing)
            .Select(o => new { o.FirstMessageId, o.LastMessageId })
            .FirstOrDefaultAsync(ct);
        if (op is null || op.LastMessageId == 0)
        {
            return 0;
        }
        var size = BatchSize;
        var slices = await db.Set<Message>().AsNoTracking()
            .Where(m => m.Id >= op.FirstMessageId && m.Id <= op.LastMessageId && m.OperationId == operationId && m.Status == MessageStatus.Queued)
            .Select(m => (m.Id - op.FirstMessageId) / size)
            .Distinct()
            .ToListAsync(ct);
        foreach (var slice in slices)
        {
            var start = op.FirstMessageId + slice * size;
            EnqueueRange(operationId, start, Math.Min(op.LastMessageId, start + size - 1));
        }
        if (slices.Count == 0)
        {
            await CompleteIfDoneAsync(operationId, ct);
        }
        return slices.Count;
    }

    private int BatchSize => Math.Max(1, options.Value.BatchSize);

    private void EnqueueRange(long operationId, long from, long to) =>
        jobs.Enqueue<DispatchJobs>(j => j.SendBatchAsync(operationId, from, to, CancellationToken.None));

    /// <summary>Marks a PROCESSING operation COMPLETED when nothing is left to send.</summary>
    public async Task CompleteIfDoneAsync(long operationId, CancellationToken ct)
    {
        if (await store.CompleteIfDoneAsync(operationId, ct))
        {
            progress.Publish(operationId);
            await opLog.CompletedAsync(operationId, ct);
        }
    }

    /// <summary>Stops new sends within a second; the place is kept (messages stay QUEUED).</summary>
    public async Task<ControlResult> PauseAsync(long operationId, string? reason, CancellationToken ct)
    {
        var result = await TransitionAsync(operationId, [OperationStatus.Processing, OperationStatus.Scheduled], OperationStatus.Paused, reason, ct);
        if (result == ControlResult.Done)
        {
            await opLog.PausedAsync(operationId, reason, ct);
        }
        return result;
    }

    /// <summary>Moves the operation from one of <paramref name="from"/> to <paramref name="to"/>; a pause or cancel wakes its running batches, on every node (<see cref="OperationSignals"/>).</summary>
    public async Task<ControlResult> TransitionAsync(long operationId, OperationStatus[] from, OperationStatus to, string? reason, CancellationToken ct)
    {
        if (await store.TransitionAsync(operationId, from, to, reason, ct) is { } refused)
        {
            return refused;
        }
        if (to is OperationStatus.Paused or OperationStatus.Canceled)
        {
            signals.Stop(operationId);
        }
        progress.Publish(operationId);
        return ControlResult.Done;
    }
}
