using BulkCampaigns.Operations;
using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// A batch that stops after handing messages to the provider (the database failed under it, say), or a node that dies,
/// leaves its claim in flight. Every node settles such claims without a restart, once their lease ran out (on the
/// database's clock: the owner's heartbeat stopped renewing it) and they are older than
/// <see cref="DispatchOptions.InFlightStaleSeconds"/>, when no batch of this process holds them: its messages are asked
/// about like at start-up (SENT if the provider has them, else QUEUED and sent again), and the operation's batches are
/// queued again, so a dead node's operation is taken over by the others. A live node's claims are never touched.
/// Each round then looks for running operations that lost their batch jobs (<see cref="StallRescue"/>).
/// </summary>
public sealed class InFlightSweeper(
    IDbContextFactory<AppDbContext> dbFactory, DispatchJobs jobs, OperationRunner operations, ActiveBatches active, StallRescue stalls,
    IOptions<DispatchOptions> options, TimeProvider clock, ILogger<InFlightSweeper> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.Value.InFlightSweepSeconds)), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
                await stalls.RescueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Settling stale in-flight messages failed; trying again at the next round");
            }
        }
    }

    /// <summary>One round; returns how many messages were settled.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        List<(long Id, OperationStatus Status)> candidates;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            candidates = (await db.Set<Operation>().AsNoTracking()
                .Where(o => o.Sending > 0 && (o.Status == OperationStatus.Processing || o.Status == OperationStatus.Paused || o.Status == OperationStatus.Canceled))
                .Select(o => new { o.Id, o.Status }).ToListAsync(ct))
                .Select(o => (o.Id, o.Status)).ToList();
        }
        var staleBefore = clock.GetUtcNow().AddSeconds(-options.Value.InFlightStaleSeconds);
        var settled = 0;
        foreach (var (id, status) in candidates)
        {
            var count = await jobs.SettleInFlightAsync(id, ct, staleBefore, messageId => active.Covers(id, messageId));
            if (count == 0)
            {
                continue;
            }
            settled += count;
            log.LogWarning("Settled {Count} messages of operation {OperationId} left in flight by a batch that stopped", count, id);
            if (status == OperationStatus.Processing)
            {
                await operations.CompleteIfDoneAsync(id, ct);
                await operations.EnqueueBatchesAsync(id, ct);
            }
        }
        return settled;
    }
}
