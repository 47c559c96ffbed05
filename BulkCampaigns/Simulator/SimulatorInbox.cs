using System.Text.Json;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Simulator;

public sealed record SimulatorMessageView(string Id, string From, string To, string Body, IReadOnlyList<string> Media, DateTimeOffset ReceivedAt, string Status);

public sealed record PhoneInbox(string To, long Messages, DateTimeOffset LastReceivedAt);

/// <summary>Reads what the simulated phones received, for the API and the Simulator page; keyset paged.</summary>
public sealed class SimulatorInbox(IDbContextFactory<AppDbContext> dbFactory)
{
    /// <summary>Messages in ID order after <paramref name="afterId"/>; returns up to <paramref name="take"/> rows.</summary>
    public async Task<List<(long Key, SimulatorMessageView View)>> ListAsync(string? to, string? from, DateTimeOffset? sentAfter, long afterId, int take, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Set<SimulatorMessage>().AsNoTracking().Where(m => m.Id > afterId);
        if (!string.IsNullOrEmpty(to))
        {
            query = query.Where(m => m.To == to);
        }
        if (!string.IsNullOrEmpty(from))
        {
            query = query.Where(m => m.From == from);
        }
        if (sentAfter is { } after)
        {
            query = query.Where(m => m.ReceivedAt >= after);
        }
        var rows = await query.OrderBy(m => m.Id).Take(take).ToListAsync(ct);
        var mark = await ReportMarkAsync(db, ct);
        return rows.Select(m => (m.Id, View(m, mark))).ToList();
    }

    /// <summary>The newest messages of one phone, newest first, before <paramref name="beforeId"/> (0: from the newest).</summary>
    public async Task<List<SimulatorMessageView>> ConversationAsync(string to, long beforeId, int take, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Set<SimulatorMessage>().AsNoTracking().Where(m => m.To == to);
        if (beforeId > 0)
        {
            query = query.Where(m => m.Id < beforeId);
        }
        var rows = await query.OrderByDescending(m => m.Id).Take(take).ToListAsync(ct);
        var mark = await ReportMarkAsync(db, ct);
        return rows.Select(m => View(m, mark)).ToList();
    }

    /// <summary>Phones in address order after <paramref name="afterTo"/>, read along the (To, Id) index so a deep page costs the same.</summary>
    public async Task<List<PhoneInbox>> PhonesAsync(string? afterTo, string? prefix, int take, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Set<SimulatorMessage>().AsNoTracking();
        if (!string.IsNullOrEmpty(afterTo))
        {
            query = query.Where(m => string.Compare(m.To, afterTo) > 0);
        }
        if (!string.IsNullOrEmpty(prefix))
        {
            query = query.Where(m => m.To.StartsWith(prefix));
        }
        var rows = await query.GroupBy(m => m.To)
            .OrderBy(g => g.Key)
            .Select(g => new { To = g.Key, Count = g.LongCount(), Last = g.Max(m => m.Id) })
            .Take(take).ToListAsync(ct);
        var lastIds = rows.Select(r => r.Last).ToList();
        var times = await db.Set<SimulatorMessage>().AsNoTracking().Where(m => lastIds.Contains(m.Id)).ToDictionaryAsync(m => m.Id, m => m.ReceivedAt, ct);
        return rows.Select(r => new PhoneInbox(r.To, r.Count, times.GetValueOrDefault(r.Last))).ToList();
    }

    private static Task<long> ReportMarkAsync(AppDbContext db, CancellationToken ct) =>
        db.Set<SimulatorReportMark>().Select(r => r.ReportedThroughId).FirstOrDefaultAsync(ct);

    private static SimulatorMessageView View(SimulatorMessage m, long reportedThroughId) => new(
        SimulatorProvider.ProviderId(m.Id), m.From, m.To, m.Body,
        JsonSerializer.Deserialize<List<string>>(m.MediaJson) ?? [], m.ReceivedAt,
        m.Id > reportedThroughId ? "SENT" : m.WillDeliver ? "DELIVERED" : "UNDELIVERED");
}
