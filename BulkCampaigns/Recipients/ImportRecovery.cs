using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Recipients;

/// <summary>
/// Start-up step: Hangfire.InMemory forgets its queue on restart, the database does not. Every import
/// still PROCESSING that this node received (its <see cref="Import.NodeName"/>) was cut off by a stop or crash of this node;
/// it is queued again here (the job starts it over from the file, or fails it saying the upload is gone: staged rows never
/// reached the group). On PostgreSQL an import another node received is that node's to resume when it starts; one
/// written before imports named their node is this node's when its file is here.
/// </summary>
public sealed class ImportRecovery(IDbContextFactory<AppDbContext> dbFactory, ImportService imports, DatabaseConnection database, Dispatch.CurrentNode node, ILogger<ImportRecovery> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var running = await db.Set<Import>().Where(i => i.Status == ImportStatus.Processing).Select(i => new { i.Id, i.StoredFile, i.NodeName }).ToListAsync(cancellationToken);
        foreach (var (id, file, owner) in running.Select(i => (i.Id, i.StoredFile, i.NodeName)))
        {
            // On SQLite there is one node: every import is this node's, and the job fails one whose file is gone saying so.
            var mine = owner is null ? File.Exists(Path.Combine(imports.Options.UploadFolder, file)) : owner == node.Name;
            if (database.IsPostgres && !mine)
            {
                continue;
            }
            logger.LogInformation("Resuming import {ImportId} left running by the last stop", id);
            imports.Enqueue(id);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
