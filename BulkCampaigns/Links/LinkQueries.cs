using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Links;

/// <summary>One link of an operation: the messages that clicked it (each once) and all its clicks.</summary>
public sealed record LinkStats(string Url, long Clicked, long Clicks);

/// <summary>Clicks in one slice of time (<see cref="ClickTimeline.Bucket"/> long from <see cref="From"/>).</summary>
public sealed record ClickPoint(DateTimeOffset From, long Clicks);

public sealed record ClickTimeline(TimeSpan Bucket, IReadOnlyList<ClickPoint> Points);

/// <summary>An operation's clicks by link and over time, read from the <see cref="LinkClick"/> rows (both databases, through EF).</summary>
public sealed class LinkQueries(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    /// <summary>At most this many links are listed (a personalized URL is one link per recipient): the most clicked first.</summary>
    public const int MaxLinks = 1000;

    public async Task<List<LinkStats>> LinksAsync(long operationId, int take = MaxLinks, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Set<LinkClick>().AsNoTracking()
            .Where(c => c.OperationId == operationId)
            .GroupBy(c => c.Url)
            .Select(g => new { Url = g.Key, Clicked = g.Select(c => c.MessageId).Distinct().Count(), Clicks = g.Count() })
            .OrderByDescending(g => g.Clicks).ThenBy(g => g.Url)
            .Take(Math.Clamp(take, 1, MaxLinks))
            .ToListAsync(ct);
        return rows.Select(r => new LinkStats(r.Url, r.Clicked, r.Clicks)).ToList();
    }

    /// <summary>
    /// Clicks from the first one to now in at most about 60 slices: a minute each for the first hour, then wider
    /// (5, 15, 60 minutes, a day), so a campaign's first minutes and its following days both read well.
    /// </summary>
    public async Task<ClickTimeline> TimelineAsync(long operationId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var clicks = db.Set<LinkClick>().AsNoTracking().Where(c => c.OperationId == operationId);
        var first = await clicks.OrderBy(c => c.At).Select(c => (long?)c.At).FirstOrDefaultAsync(ct);
        if (first is not { } start)
        {
            return new ClickTimeline(TimeSpan.FromMinutes(1), []);
        }
        var span = TimeSpan.FromMilliseconds(Math.Max(0, UnixMs.Now(clock) - start));
        var bucket = new[] { 1, 5, 15, 60, 24 * 60 }.Select(m => TimeSpan.FromMinutes(m)).FirstOrDefault(b => span / b <= 60, TimeSpan.FromDays(1));
        var size = (long)bucket.TotalMilliseconds;
        var origin = start / size * size;
        var counts = await clicks.GroupBy(c => (c.At - origin) / size).Select(g => new { g.Key, Count = g.LongCount() }).ToListAsync(ct);
        var byBucket = counts.ToDictionary(c => c.Key, c => c.Count);
        var last = byBucket.Count == 0 ? 0 : Math.Max(byBucket.Keys.Max(), (UnixMs.Now(clock) - origin) / size);
        var points = new List<ClickPoint>();
        for (var i = Math.Max(0, last - 119); i <= last; i++)
        {
            points.Add(new ClickPoint(DateTimeOffset.FromUnixTimeMilliseconds(origin + i * size), byBucket.GetValueOrDefault(i)));
        }
        return new ClickTimeline(bucket, points);
    }
}
