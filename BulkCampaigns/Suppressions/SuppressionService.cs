using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Suppressions;

/// <summary>Adds and removes opted-out addresses. Addresses are E.164; callers normalize first.</summary>
public sealed class SuppressionService(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    /// <summary>Adds the address unless it is already suppressed; returns true when it was added.</summary>
    public async Task<bool> AddAsync(string e164, string? reason, string source, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var added = await db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO Suppressions (Address, Reason, Source, CreatedAt) VALUES ({e164}, {reason}, {source}, {clock.GetUtcNow()}) ON CONFLICT(Address) DO NOTHING", ct);
        return added > 0;
    }

    /// <summary>Removes the address; returns true when it was suppressed.</summary>
    public async Task<bool> RemoveAsync(string e164, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<Suppression>().Where(s => s.Address == e164).ExecuteDeleteAsync(ct) > 0;
    }

    public async Task<bool> IsSuppressedAsync(string e164, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<Suppression>().AnyAsync(s => s.Address == e164, ct);
    }
}
