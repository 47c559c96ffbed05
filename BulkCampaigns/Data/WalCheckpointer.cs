namespace BulkCampaigns.Data;

/// <summary>
/// Copies the write-ahead log back into the database file beside the writer, on its own connection, so the
/// writer never pauses for it (see <see cref="WriteGate"/>). A passive checkpoint takes no lock a writer needs.
/// </summary>
public sealed class WalCheckpointer(DatabaseConnection database, ILogger<WalCheckpointer> log) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await using var connection = await database.OpenAsync(stoppingToken);
                await using var checkpoint = connection.CreateCommand();
                checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
                await checkpoint.ExecuteNonQueryAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "WAL checkpoint failed; trying again");
            }
        }
    }
}
