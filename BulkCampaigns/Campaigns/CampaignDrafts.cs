using System.Text.Json;
using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Campaigns;

/// <summary>Loads and saves each user's wizard draft.</summary>
public sealed class CampaignDrafts(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public async Task<DraftData> LoadAsync(string owner, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var json = await db.Set<CampaignDraft>().AsNoTracking().Where(d => d.Owner == owner).Select(d => d.DataJson).FirstOrDefaultAsync(ct);
        return json is null ? new DraftData() : JsonSerializer.Deserialize<DraftData>(json) ?? new DraftData();
    }

    public async Task SaveAsync(string owner, DraftData data, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var json = JsonSerializer.Serialize(data);
        var now = clock.GetUtcNow();
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO CampaignDrafts (Owner, DataJson, UpdatedAt) VALUES ({owner}, {json}, {now}) ON CONFLICT(Owner) DO UPDATE SET DataJson = excluded.DataJson, UpdatedAt = excluded.UpdatedAt", ct);
    }

    public async Task DeleteAsync(string owner, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Set<CampaignDraft>().Where(d => d.Owner == owner).ExecuteDeleteAsync(ct);
    }
}
