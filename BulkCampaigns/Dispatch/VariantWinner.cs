using System.Text.Json;
using BulkCampaigns.Content;
using BulkCampaigns.Data;
using BulkCampaigns.Operations;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Dispatch;

/// <summary>One variant's messages by outcome (those held for the winner belong to none until the decision).</summary>
public sealed record VariantCount(int Variant, long Total, long Sent, long Delivered, long Failed);

/// <summary>An A/B test's decision as stored on the operation and shown by the API.</summary>
public sealed record VariantDecision(string Name, DateTimeOffset DecidedAt, IReadOnlyDictionary<string, double> Rates)
{
    public string ToJson() => JsonSerializer.Serialize(this, ContentJson.Options);

    public static VariantDecision? FromJson(string? json) => json is null ? null : JsonSerializer.Deserialize<VariantDecision>(json, ContentJson.Options);

    /// <summary>Where the held messages go at the decision: to the queue, or to their start when the operation has not started.</summary>
    public static MessageStatus HeldGoTo(OperationStatus status) => status == OperationStatus.Scheduled ? MessageStatus.Scheduled : MessageStatus.Queued;

    /// <summary>
    /// The winner: the best rate of the metric among the variants, the first on a tie. A variant's rate is its messages
    /// with the metric (delivered, or clicked) over the messages it was given in the test.
    /// </summary>
    public static (int Winner, Dictionary<string, double> Rates) Pick(VariantPlan plan, IReadOnlyList<VariantCount> counts, IReadOnlyDictionary<int, long>? clicked)
    {
        var rates = new Dictionary<string, double>(StringComparer.Ordinal);
        var winner = 0;
        var best = double.NegativeInfinity;
        for (var i = 0; i < plan.Names.Count; i++)
        {
            var count = counts.FirstOrDefault(c => c.Variant == i);
            var hits = plan.Metric == ContentRules.MetricClicked
                ? clicked?.GetValueOrDefault(i) ?? throw new InvalidOperationException("The clicked metric needs link tracking.")
                : count?.Delivered ?? 0;
            var rate = count is { Total: > 0 } ? Math.Round((double)hits / count.Total, 4) : 0;
            rates[plan.Names[i]] = rate;
            if (rate > best)
            {
                best = rate;
                winner = i;
            }
        }
        return (winner, rates);
    }
}

/// <summary>
/// Test-then-winner (docs/api.md: A/B variants): at the operation's <c>DecideAt</c> a Hangfire job picks the variant with
/// the best rate and queues the held rest with it. The time and the decision are stored with the operation, so a restart
/// loses nothing: at start-up a decision that is due is taken at once and one still ahead is scheduled again. Taking it
/// twice (a job and the start-up, or two nodes) is harmless: the store takes it once.
/// </summary>
public sealed class VariantWinner(
    IEngineStore store,
    IDbContextFactory<AppDbContext> dbFactory,
    IBackgroundJobClient jobs,
    OperationRunner runner,
    OperationProgress progress,
    TimeProvider clock,
    ILogger<VariantWinner> log)
{
    public void Schedule(long operationId, DateTimeOffset at) =>
        jobs.Schedule<VariantWinner>(w => w.DecideAsync(operationId, CancellationToken.None), at);

    /// <summary>Each variant's messages by outcome, for the decision and the dashboard.</summary>
    public static async Task<List<VariantCount>> CountAsync(AppDbContext db, long operationId, CancellationToken ct)
    {
        var rows = await db.Set<Message>().AsNoTracking()
            .Where(m => m.OperationId == operationId && m.Variant != null)
            .GroupBy(m => new { m.Variant, m.Status })
            .Select(g => new { g.Key.Variant, g.Key.Status, Count = g.LongCount() })
            .ToListAsync(ct);
        return rows.GroupBy(r => r.Variant!.Value).OrderBy(g => g.Key).Select(g => new VariantCount(
            g.Key,
            g.Sum(r => r.Count),
            g.Where(r => r.Status is MessageStatus.Sent or MessageStatus.Delivered or MessageStatus.Read or MessageStatus.Undelivered).Sum(r => r.Count),
            g.Where(r => r.Status is MessageStatus.Delivered or MessageStatus.Read).Sum(r => r.Count),
            g.Where(r => r.Status is MessageStatus.Failed or MessageStatus.Undelivered or MessageStatus.Unaddressable).Sum(r => r.Count))).ToList();
    }

    /// <summary>Takes the decision when it is due (again later when the job came early); nothing for a canceled operation or one decided.</summary>
    [DisableConcurrentExecution(60)]
    public async Task DecideAsync(long operationId, CancellationToken ct)
    {
        VariantPlan? plan;
        List<VariantCount> counts;
        OperationStatus status;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var op = await db.Set<Operation>().AsNoTracking().Where(o => o.Id == operationId)
                .Select(o => new { o.Status, o.DecideAt, o.WinnerJson, o.ContentJson }).FirstOrDefaultAsync(ct);
            if (op is not { DecideAt: { } due, WinnerJson: null } || op.Status == OperationStatus.Canceled)
            {
                return;
            }
            if (due > clock.GetUtcNow())
            {
                Schedule(operationId, due);
                return;
            }
            plan = VariantPlan.Of(op.ContentJson);
            status = op.Status;
            counts = await CountAsync(db, operationId, ct);
        }
        if (plan is null)
        {
            return;
        }
        var clicked = plan.Metric == ContentRules.MetricClicked ? await store.CountClickedByVariantAsync(operationId, ct) : null;
        var (winner, rates) = VariantDecision.Pick(plan, counts, clicked);
        var decision = new VariantDecision(plan.Names[winner], clock.GetUtcNow(), rates);
        if (await store.DecideWinnerAsync(operationId, winner, decision.ToJson(), UnixMs.Now(clock), ct) is not { } moved)
        {
            return;
        }
        log.LogInformation("Operation {OperationId}: variant {Winner} won ({Metric}: {Rates}); {Moved} held messages get it",
            operationId, decision.Name, plan.Metric, string.Join(", ", rates.Select(r => $"{r.Key} {r.Value:0.####}")), moved);
        if (status == OperationStatus.Processing)
        {
            await runner.EnqueueBatchesAsync(operationId, ct);
            await runner.CompleteIfDoneAsync(operationId, ct);
        }
        progress.Publish(operationId);
    }
}

/// <summary>Start-up step: every test whose decision is not taken gets it now when due, else its job again (Hangfire.InMemory forgot it).</summary>
public sealed class VariantWinnerRecovery(IServiceProvider services, ILogger<VariantWinnerRecovery> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        var winner = sp.GetRequiredService<VariantWinner>();
        var clock = sp.GetRequiredService<TimeProvider>();
        List<(long Id, DateTimeOffset DecideAt)> waiting;
        await using (var db = await sp.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync(cancellationToken))
        {
            waiting = (await db.Set<Operation>().AsNoTracking()
                .Where(o => o.DecideAt != null && o.WinnerJson == null && o.Status != OperationStatus.Canceled)
                .Select(o => new { o.Id, o.DecideAt }).ToListAsync(cancellationToken))
                .Select(o => (o.Id, o.DecideAt!.Value)).ToList();
        }
        foreach (var (id, at) in waiting)
        {
            if (at <= clock.GetUtcNow())
            {
                await winner.DecideAsync(id, cancellationToken);
            }
            else
            {
                winner.Schedule(id, at);
            }
            log.LogInformation("Operation {OperationId} waits for its A/B winner at {DecideAt:O}", id, at);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
