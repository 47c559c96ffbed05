using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Recipients;

/// <summary>
/// Start-up step: Hangfire.InMemory forgets its queue on restart, the database does not. Every import
/// still PROCESSING whose file is in this node's data folder was cut off by a stop or crash of this node; it is queued
/// again on this node (the job starts it over from the file: staged rows never reached the group). An import whose file
/// is not here (on PostgreSQL) belongs to another node sharing the database, which resumes it when it starts.
/// </summary>
public sealed class ImportRecovery(IDbContextFactory<AppDbContext> dbFactory, ImportService imports, DatabaseConnection database, ILogger<ImportRecovery> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var running = await db.Set<Import>().Where(i => i.Status == ImportStatus.Processing).Select(i => new { i.Id, i.StoredFile }).ToListAsync(cancellationToken);
        foreach (var (id, file) in running.Select(i => (i.Id, i.StoredFile)))
        {
            // On SQLite there is one node: a missing file is this node's, and the job fails the import saying so.
            if (database.IsPostgres && !File.Exists(Path.Combine(imports.Options.UploadFolder, file)))
            {
                continue;
            }
            logger.LogInformation("Resuming import {ImportId} left running by the last stop", id);
            imports.Enqueue(id);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
