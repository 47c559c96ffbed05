using BulkCampaigns.Data;
using BulkCampaigns.Recipients;
using BulkCampaigns.Suppressions;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Campaigns;

/// <summary>How many of the chosen groups' recipients a campaign would reach.</summary>
/// <param name="Recipients">All rows of the groups added up.</param>
/// <param name="Duplicates">Rows whose address is in more than one of the groups (each address is sent to once).</param>
/// <param name="Suppressed">Distinct addresses that opted out.</param>
public sealed record AudienceCount(long Recipients, long Duplicates, long Suppressed)
{
    public long WillReceive => Recipients - Duplicates - Suppressed;
}

/// <summary>Counts through EF, so the same queries run on SQLite and PostgreSQL.</summary>
public sealed class AudienceCounter(IDbContextFactory<AppDbContext> dbFactory)
{
    public async Task<AudienceCount> CountAsync(IReadOnlyList<string> groupIds, CancellationToken ct = default)
    {
        var ids = groupIds.Select(g => PublicId.TryDecode(PublicId.Group, g, out var id) ? id : 0).Where(id => id > 0).Distinct().ToList();
        if (ids.Count == 0)
        {
            return new AudienceCount(0, 0, 0);
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var recipients = await db.Set<Group>().Where(g => ids.Contains(g.Id)).SumAsync(g => (long?)g.RecipientCount, ct) ?? 0;
        if (ids.Count == 1)
        {
            // One group needs no de-duplication: its addresses are unique already (and the count is kept on the group).
            var only = ids[0];
            var suppressed = await db.Set<Recipient>().Where(r => r.GroupId == only)
                .Join(db.Set<Suppression>(), r => r.Address, s => s.Address, (r, _) => r.Id).LongCountAsync(ct);
            return new AudienceCount(recipients, 0, suppressed);
        }
        var addresses = db.Set<Recipient>().Where(r => ids.Contains(r.GroupId)).Select(r => r.Address).Distinct();
        var distinct = await addresses.LongCountAsync(ct);
        var optedOut = await addresses.Join(db.Set<Suppression>(), a => a, s => s.Address, (a, _) => a).LongCountAsync(ct);
        return new AudienceCount(recipients, recipients - distinct, optedOut);
    }
}
