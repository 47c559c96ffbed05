using System.Security.Cryptography;
using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Links;

/// <summary>
/// The database's link key (<see cref="LinkKey"/>), read once per process: made with 32 random bytes by whichever node
/// needs it first; a node that loses that race reads the winner's.
/// </summary>
public sealed class LinkKeys(IDbContextFactory<AppDbContext> dbFactory)
{
    private readonly Lazy<LinkCodes> _codes = new(() => new LinkCodes(Load(dbFactory)), LazyThreadSafetyMode.ExecutionAndPublication);

    public LinkCodes Codes => _codes.Value;

    private static byte[] Load(IDbContextFactory<AppDbContext> dbFactory)
    {
        using var db = dbFactory.CreateDbContext();
        if (db.Set<LinkKey>().AsNoTracking().FirstOrDefault(k => k.Id == 1) is { } existing)
        {
            return existing.Key;
        }
        db.Add(new LinkKey { Id = 1, Key = RandomNumberGenerator.GetBytes(32) });
        try
        {
            db.SaveChanges();
        }
        catch (DbUpdateException)
        {
            // Another node made it first.
        }
        using var again = dbFactory.CreateDbContext();
        return again.Set<LinkKey>().AsNoTracking().First(k => k.Id == 1).Key;
    }
}
