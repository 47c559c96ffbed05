using BulkCampaigns.Hosting;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Simulator;

/// <summary>
/// Reports DELIVERED or UNDELIVERED for each simulated message once its delay has passed. Pending reports
/// are the stored rows past the report mark, so they survive a restart.
/// </summary>
public sealed class SimulatorDeliveryReporter(
    WriteGate gate, DeliveryReports reports, IOptionsMonitor<SimulatedOptions> options,
    TimeProvider clock, ILogger<SimulatorDeliveryReporter> log) : BackgroundService
{
    private static readonly string WindowSql = $"""
        WITH w AS MATERIALIZED (
            SELECT s.Id, s.ReportDueAt, s.CallbackMessageId FROM SimulatorMessages s
            WHERE s.Id > (SELECT ReportedThroughId FROM SimulatorReportMarks WHERE Id = 1) ORDER BY s.Id LIMIT $limit)
        SELECT (SELECT ReportedThroughId FROM SimulatorReportMarks WHERE Id = 1),
               COALESCE((SELECT MIN(w.Id) - 1 FROM w LEFT JOIN Messages m ON m.Id = w.CallbackMessageId
                         WHERE w.ReportDueAt > $now OR m.Status = {(int)MessageStatus.Sending}
                            OR (m.Status = {(int)MessageStatus.Queued} AND EXISTS (SELECT 1 FROM ClaimedBatches c WHERE c.OperationId = m.OperationId AND m.Id BETWEEN c.FromId AND c.ToId))),
                         (SELECT MAX(Id) FROM w))
        """;

    private static readonly string ApplySql = $"""
        UPDATE Messages SET
            Status = CASE WHEN d.WillDeliver = 1 THEN {(int)MessageStatus.Delivered} ELSE {(int)MessageStatus.Undelivered} END,
            ErrorCode = CASE WHEN d.WillDeliver = 1 THEN ErrorCode ELSE '30003' END,
            ErrorMessage = CASE WHEN d.WillDeliver = 1 THEN ErrorMessage ELSE 'Unreachable destination handset (simulated)' END,
            UpdatedAt = $now
        FROM (SELECT CallbackMessageId, WillDeliver FROM SimulatorMessages WHERE Id > $mark AND Id <= $through) AS d
        WHERE Messages.Id = d.CallbackMessageId AND Messages.Status = {(int)MessageStatus.Sent}
        RETURNING Messages.OperationId, Messages.Status
        """;

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

    /// <summary>
    /// Applies the reports that are due, set-based, in ID order: the round stops before the first report that is not due
    /// yet or whose message is still being written as SENT, and the mark moves past what was handled.
    /// Returns how many simulated messages the mark moved past.
    /// </summary>
    public async Task<int> ReportDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var deltas = new Dictionary<long, StatsDelta>();
        long mark, through;
        // Reports yield to sending: a campaign's sends go first, reports catch up (never starved, see WriteGate).
        using (var writer = await gate.EnterBackgroundAsync(ct))
        {
            var connection = writer.Connection;
            await using var tx = connection.BeginTransaction();
            await using (var window = connection.CreateCommand())
            {
                window.Transaction = tx;
                window.CommandText = WindowSql;
                window.Parameters.AddWithValue("$now", now);
                window.Parameters.AddWithValue("$limit", MaxPerRound);
                using var step = WriterTrace.Step("reports.window");
                await using var reader = await window.ExecuteReaderAsync(ct);
                await reader.ReadAsync(ct);
                mark = reader.GetInt64(0);
                through = reader.IsDBNull(1) ? mark : reader.GetInt64(1);
            }
            if (through <= mark)
            {
                return 0;
            }
            await using (var apply = connection.CreateCommand())
            {
                // Only SENT messages move on: a report for a message already moved on (a duplicate send) changes nothing.
                apply.Transaction = tx;
                apply.CommandText = ApplySql;
                apply.Parameters.AddWithValue("$now", now);
                apply.Parameters.AddWithValue("$mark", mark);
                apply.Parameters.AddWithValue("$through", through);
                using var step = WriterTrace.Step("reports.apply");
                step.Count(through - mark);
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
            await using (var move = connection.CreateCommand())
            {
                move.Transaction = tx;
                move.CommandText = "UPDATE SimulatorReportMarks SET ReportedThroughId = $through WHERE Id = 1";
                move.Parameters.AddWithValue("$through", through);
                await move.ExecuteNonQueryAsync(ct);
            }
            using (WriterTrace.Step("reports.mark+counters"))
            {
                foreach (var (operationId, delta) in deltas)
                {
                    await delta.ApplyAsync(connection, tx, operationId, now, ct);
                }
            }
            using (WriterTrace.Step("reports.commit"))
            {
                await tx.CommitAsync(ct);
            }
        }
        reports.Publish(deltas.Keys);
        return (int)Math.Min(MaxPerRound, through - mark);
    }
}
