using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Recipients;

/// <summary>
/// Start-up step: Hangfire.InMemory forgets its queue on restart, the database does not. Every import
/// still PROCESSING was cut off by a stop or crash; its file is still stored, so it is queued again
/// (the job starts it over from the file: staged rows never reached the group).
/// </summary>
public sealed class ImportRecovery(IDbContextFactory<AppDbContext> dbFactory, ImportService imports, ILogger<ImportRecovery> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var running = await db.Set<Import>().Where(i => i.Status == ImportStatus.Processing).Select(i => i.Id).ToListAsync(cancellationToken);
        foreach (var id in running)
        {
            logger.LogInformation("Resuming import {ImportId} left running by the last stop", id);
            imports.Enqueue(id);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
