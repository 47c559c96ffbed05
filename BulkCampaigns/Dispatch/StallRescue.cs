using System.Collections.Concurrent;
using BulkCampaigns.Data;
using BulkCampaigns.Operations;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// The last safety net of a running campaign. A PROCESSING operation whose messages wait QUEUED while none is being
/// sent (nothing SENDING) and whose counts have not moved for <see cref="DispatchOptions.StalledSeconds"/> has lost the
/// jobs that were to send them (seen twice on PostgreSQL, in 1M campaigns: one range stayed QUEUED with no job left to
/// send it, its cause not found; the first time for over 30 minutes, before this rescue existed), or a job lost with
/// the process that held it. Its ranges that still hold QUEUED messages are queued again; a batch claims only QUEUED
/// messages, so a range queued twice sends nothing twice.
/// Left alone: anything while the shared queue has jobs waiting (the workers are busy, so the campaign waits its
/// turn), an operation inside its quiet hours in its own zone (its batches come back by themselves when they end),
/// one waiting for an A/B decision (its rest is not QUEUED), paused and scheduled ones. An operation rescued and still
/// not moving is rescued again after twice the wait, up to an hour, so it never floods the queue.
/// </summary>
public sealed class StallRescue(
    IDbContextFactory<AppDbContext> dbFactory, OperationRunner operations, JobStorage storage,
    IOptions<DispatchOptions> options, TimeProvider clock, ILogger<StallRescue> log)
{
    private static readonly TimeSpan LongestWait = TimeSpan.FromHours(1);

    /// <summary>Per operation rescued: its counts' time when it was rescued, when, and the wait before the next rescue.</summary>
    private readonly ConcurrentDictionary<long, (DateTimeOffset UpdatedAt, DateTimeOffset RescuedAt, TimeSpan Wait)> _rescued = new();

    /// <summary>What a round reads of a running operation.</summary>
    private sealed record Candidate(long Id, long Queued, DateTimeOffset UpdatedAt, QuietHours? Quiet);

    /// <summary>One round; returns the operations whose batches were queued again.</summary>
    public async Task<int> RescueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var stalledFor = TimeSpan.FromSeconds(Math.Max(1, options.Value.StalledSeconds));
        List<Candidate> candidates;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            candidates = (await db.Set<Operation>().AsNoTracking()
                .Where(o => o.Status == OperationStatus.Processing && o.Queued > 0 && o.Sending == 0)
                .Select(o => new { o.Id, o.Queued, o.UpdatedAt, o.QuietStart, o.QuietEnd, o.QuietTimeZone })
                .ToListAsync(ct))
                .Select(o => new Candidate(o.Id, o.Queued, o.UpdatedAt, QuietHours.Of(o.QuietStart, o.QuietEnd, o.QuietTimeZone)))
                .ToList();
        }
        // An operation that is sending again, or done, is forgotten: if it stalls later, its wait starts over.
        foreach (var id in _rescued.Keys.Where(id => candidates.All(c => c.Id != id)).ToList())
        {
            _rescued.TryRemove(id, out _);
        }
        candidates.RemoveAll(o => now - o.UpdatedAt < stalledFor || InQuietHours(o.Quiet, now) || !DueAgain(o, now));
        if (candidates.Count == 0 || storage.GetMonitoringApi().EnqueuedCount(EnqueuedState.DefaultQueue) > 0)
        {
            return 0;
        }
        foreach (var op in candidates)
        {
            var ranges = await operations.EnqueueQueuedRangesAsync(op.Id, ct);
            var wait = _rescued.TryGetValue(op.Id, out var last) && last.UpdatedAt == op.UpdatedAt
                ? TimeSpan.FromTicks(Math.Min(LongestWait.Ticks, last.Wait.Ticks * 2))
                : stalledFor;
            _rescued[op.Id] = (op.UpdatedAt, now, wait);
            log.LogWarning("Campaign {OperationId} had {Queued} messages queued and none sent for {Seconds} s with no batch running: queued {Ranges} of its batches again",
                op.Id, op.Queued, (int)(now - op.UpdatedAt).TotalSeconds, ranges);
        }
        return candidates.Count;
    }

    /// <summary>Not rescued since, or its counts moved since, or the wait after the last rescue is over.</summary>
    private bool DueAgain(Candidate op, DateTimeOffset now) =>
        !_rescued.TryGetValue(op.Id, out var last) || last.UpdatedAt != op.UpdatedAt || now - last.RescuedAt >= last.Wait;

    private static bool InQuietHours(QuietHours? quiet, DateTimeOffset now) =>
        quiet is { } q && QuietHours.FindIanaZone(q.TimeZoneId) is { } zone && q.IsQuiet(now, zone);
}
