using System.Text.Json;
using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Campaigns;

/// <summary>One of a user's drafts, as the drafts list shows it.</summary>
public sealed record DraftSummary(long Id, string Name, int Groups, DateTimeOffset UpdatedAt);

/// <summary>Loads and saves each user's wizard drafts; a user sees and changes only their own.</summary>
public sealed class CampaignDrafts(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public const string Untitled = "Untitled";

    /// <summary>
    /// The owner's drafts a page at a time, the newest first, keyset on the ID: those started before
    /// <paramref name="before"/> (0: from the newest), up to <paramref name="take"/> rows.
    /// </summary>
    // Keyset on the ID, not the last change: a page must start exactly where the previous one ended, and UpdatedAt is
    // stored as text SQLite cannot order or compare.
    public async Task<List<DraftSummary>> PageAsync(string owner, long before, int take, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Set<CampaignDraft>().AsNoTracking().Where(d => d.Owner == owner);
        if (before > 0)
        {
            query = query.Where(d => d.Id < before);
        }
        var rows = await query.OrderByDescending(d => d.Id).Take(take).ToListAsync(ct);
        return rows.ConvertAll(Summary);
    }

    private static DraftSummary Summary(CampaignDraft d)
    {
        var data = Read(d.DataJson);
        return new DraftSummary(d.Id, string.IsNullOrWhiteSpace(data.Name) ? Untitled : data.Name.Trim(), data.GroupIds.Count, d.UpdatedAt);
    }

    /// <summary>The draft, or null when it is gone or someone else's.</summary>
    public async Task<DraftData?> LoadAsync(string owner, long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var json = await db.Set<CampaignDraft>().AsNoTracking().Where(d => d.Owner == owner && d.Id == id).Select(d => d.DataJson).FirstOrDefaultAsync(ct);
        return json is null ? null : Read(json);
    }

    /// <summary>Saves a new draft (<paramref name="id"/> null) or an existing one; returns its id (a new one when the old one was deleted meanwhile).</summary>
    public async Task<long> SaveAsync(string owner, long? id, DraftData data, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var json = JsonSerializer.Serialize(data);
        var now = clock.GetUtcNow();
        if (id is { } existing && await db.Set<CampaignDraft>().Where(d => d.Owner == owner && d.Id == existing)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.DataJson, json).SetProperty(d => d.UpdatedAt, now), ct) > 0)
        {
            return existing;
        }
        var draft = new CampaignDraft { Owner = owner, DataJson = json, UpdatedAt = now };
        db.Add(draft);
        await db.SaveChangesAsync(ct);
        return draft.Id;
    }

    public async Task DeleteAsync(string owner, long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Set<CampaignDraft>().Where(d => d.Owner == owner && d.Id == id).ExecuteDeleteAsync(ct);
    }

    private static DraftData Read(string json) => JsonSerializer.Deserialize<DraftData>(json) ?? new DraftData();
}
