using BulkCampaigns.Operations;
using BulkCampaigns.Data;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// Start-up step, after the node registered (<see cref="NodeHeartbeat"/>). Hangfire.InMemory forgets its jobs on
/// restart; the database does not. Operations that were running go on by themselves: messages this node's earlier run
/// was sending when it died are settled by asking the provider what it received (never sent twice), the rest are
/// queued again (never skipped), and scheduled operations are scheduled again. Only claims whose lease ran out are
/// settled: another live node's batches are its own (on SQLite there is no other node).
/// </summary>
public sealed class DispatchRecovery(IServiceProvider services, ILogger<DispatchRecovery> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        var dbFactory = sp.GetRequiredService<IDbContextFactory<AppDbContext>>();
        var jobs = sp.GetRequiredService<DispatchJobs>();
        var operations = sp.GetRequiredService<OperationRunner>();
        var client = sp.GetRequiredService<IBackgroundJobClient>();
        var clock = sp.GetRequiredService<TimeProvider>();

        List<(long Id, OperationStatus Status, DateTimeOffset? SendAt)> open;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            open = (await db.Set<Operation>().AsNoTracking()
                .Where(o => o.Status == OperationStatus.Processing || o.Status == OperationStatus.Paused || o.Status == OperationStatus.Scheduled)
                .Select(o => new { o.Id, o.Status, o.SendAt })
                .ToListAsync(cancellationToken))
                .Select(o => (o.Id, o.Status, o.SendAt)).ToList();
        }
        foreach (var (id, status, sendAt) in open)
        {
            var settled = await jobs.SettleInFlightAsync(id, cancellationToken);
            if (status == OperationStatus.Processing)
            {
                await operations.CompleteIfDoneAsync(id, cancellationToken);
                await operations.EnqueueBatchesAsync(id, cancellationToken);
            }
            else if (status == OperationStatus.Scheduled)
            {
                var at = sendAt is { } s && s > clock.GetUtcNow() ? s : clock.GetUtcNow();
                client.Schedule<DispatchJobs>(j => j.StartAsync(id, CancellationToken.None), at);
            }
            log.LogInformation("Resumed operation {OperationId} ({Status}); settled {Settled} in-flight messages", id, status, settled);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
