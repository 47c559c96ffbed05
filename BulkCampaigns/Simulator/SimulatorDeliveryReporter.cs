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

    /// <summary>Applies the reports that are due; returns how many rows it looked at.</summary>
    public async Task<int> ReportDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(ct);
        using (await gate.EnterAsync(ct))
        {
            await using var tx = connection.BeginTransaction();
            var due = new List<(long SimId, DeliveryReport Report)>();
            await using (var select = connection.CreateCommand())
            {
                select.Transaction = tx;
                select.CommandText = """
                    SELECT Id, CallbackMessageId, WillDeliver FROM SimulatorMessages INDEXED BY IX_SimulatorMessages_Pending
                    WHERE Reported = 0 AND ReportDueAt <= $now ORDER BY ReportDueAt LIMIT $limit
                    """;
                select.Parameters.AddWithValue("$now", now);
                select.Parameters.AddWithValue("$limit", MaxPerRound);
                await using var reader = await select.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var delivered = reader.GetBoolean(2);
                    due.Add((reader.GetInt64(0), new DeliveryReport(reader.GetInt64(1),
                        delivered ? MessageStatus.Delivered : MessageStatus.Undelivered,
                        delivered ? null : "30003",
                        delivered ? null : "Unreachable destination handset (simulated)")));
                }
            }
            if (due.Count == 0)
            {
                return 0;
            }
            var (results, operations) = await reports.ApplyAsync(connection, tx, due.Select(d => d.Report).ToList(), ct);
            await using (var mark = connection.CreateCommand())
            {
                mark.Transaction = tx;
                mark.CommandText = "UPDATE SimulatorMessages SET Reported = 1 WHERE Id = $id";
                var id = mark.Parameters.Add("$id", Microsoft.Data.Sqlite.SqliteType.Integer);
                for (var i = 0; i < due.Count; i++)
                {
                    if (results[i] != ReportResult.NotYet)
                    {
                        id.Value = due[i].SimId;
                        await mark.ExecuteNonQueryAsync(ct);
                    }
                }
            }
            await tx.CommitAsync(ct);
            reports.Publish(operations);
            // Only reports waiting for their message's SENT write are left: wait a round before offering them again.
            return results.All(r => r == ReportResult.NotYet) ? 0 : due.Count;
        }
    }
}
