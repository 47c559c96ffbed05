using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Simulator;

/// <summary>
/// Reports DELIVERED or UNDELIVERED for each simulated message once its delay has passed. Pending reports
/// are the stored rows not yet reported, so they survive a restart.
/// </summary>
public sealed class SimulatorDeliveryReporter(
    DatabaseConnection database, WriteGate gate, DeliveryReports reports, IOptionsMonitor<SimulatedOptions> options,
    TimeProvider clock, ILogger<SimulatorDeliveryReporter> log) : BackgroundService
{
    private const int MaxPerRound = 5000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var handled = 0;
            try
            {
                handled = await ReportDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Simulated delivery reports failed; trying again");
            }
            if (handled < MaxPerRound)
            {
                var wait = Math.Clamp(options.CurrentValue.DeliveryDelayMs / 4, 50, 500);
                await Task.Delay(TimeSpan.FromMilliseconds(wait), clock, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Applies the reports that are due, set-based; returns how many were settled.</summary>
    public async Task<int> ReportDueAsync(CancellationToken ct)
    {
        const string Due = """
            SELECT Id, CallbackMessageId, WillDeliver FROM SimulatorMessages INDEXED BY IX_SimulatorMessages_Pending
            WHERE Reported = 0 AND ReportDueAt <= $now ORDER BY ReportDueAt, Id LIMIT $limit
            """;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(ct);
        var deltas = new Dictionary<long, StatsDelta>();
        int settled;
        using (await gate.EnterAsync(ct))
        {
            await using var tx = connection.BeginTransaction();
            await using (var apply = connection.CreateCommand())
            {
                // Only SENT messages move on; one still being written as SENT keeps its report for the next round.
                apply.Transaction = tx;
                apply.CommandText = $"""
                    WITH due AS ({Due})
                    UPDATE Messages SET
                        Status = CASE WHEN due.WillDeliver = 1 THEN 4 ELSE 6 END,
                        ErrorCode = CASE WHEN due.WillDeliver = 1 THEN ErrorCode ELSE '30003' END,
                        ErrorMessage = CASE WHEN due.WillDeliver = 1 THEN ErrorMessage ELSE 'Unreachable destination handset (simulated)' END,
                        UpdatedAt = $now
                    FROM due WHERE Messages.Id = due.CallbackMessageId AND Messages.Status = 3
                    RETURNING Messages.OperationId, Messages.Status
                    """;
                apply.Parameters.AddWithValue("$now", now);
                apply.Parameters.AddWithValue("$limit", MaxPerRound);
                await using var reader = await apply.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var operationId = reader.GetInt64(0);
                    if (!deltas.TryGetValue(operationId, out var delta))
                    {
                        deltas[operationId] = delta = new StatsDelta();
                    }
                    delta.Move(MessageStatus.Sent, (MessageStatus)reader.GetInt32(1));
                }
            }
            await using (var mark = connection.CreateCommand())
            {
                mark.Transaction = tx;
                mark.CommandText = $"""
                    UPDATE SimulatorMessages SET Reported = 1
                    WHERE Id IN (SELECT Id FROM ({Due}))
                      AND NOT EXISTS (SELECT 1 FROM Messages m WHERE m.Id = SimulatorMessages.CallbackMessageId AND m.Status = 2)
                    """;
                mark.Parameters.AddWithValue("$now", now);
                mark.Parameters.AddWithValue("$limit", MaxPerRound);
                settled = await mark.ExecuteNonQueryAsync(ct);
            }
            foreach (var (operationId, delta) in deltas)
            {
                await delta.ApplyAsync(connection, tx, operationId, now, ct);
            }
            await tx.CommitAsync(ct);
        }
        reports.Publish(deltas.Keys);
        return settled;
    }
}
