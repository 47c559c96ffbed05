using BulkCampaigns.Content;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Recipients;
using BulkCampaigns.Senders;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Campaigns;

/// <summary>One row of a failure breakdown: how many messages ended with this error.</summary>
public sealed record FailureReason(string? Code, string? Message, MessageStatus Status, long Count);

/// <summary>A page of a keyset-paged list: the rows and the key to ask for the next page with (null on the last).</summary>
public sealed record KeysetPage<T>(IReadOnlyList<T> Rows, long? NextAfter);

/// <summary>One second of sending: how many messages left for the provider in it.</summary>
public sealed record ThroughputPoint(DateTimeOffset Second, int Messages);

/// <summary>
/// What the campaign pages read. Every list is keyset-paged on indexed keys; an operation's messages are
/// one contiguous range of IDs, so its pages are range scans on the primary key at any depth.
/// </summary>
public sealed class CampaignQueries(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock, Dispatch.IEngineStore store)
{
    /// <summary>
    /// The operations the campaign pages show, and the only place that chooses them: the list, the dashboard's tables
    /// and totals and the first-run checklist all start here.
    /// </summary>
    // Test sends (the wizard's, marked [TEST]) are kept out of all of them.
    private static IQueryable<Operation> Listed(AppDbContext db) => db.Set<Operation>().AsNoTracking().Where(o => !o.IsTest);

    /// <summary>
    /// One page of campaigns matching <paramref name="filter"/>, in its order; <paramref name="after"/> is the key of
    /// the previous page's last row. Every order ends on the ID, so a page starts exactly after the last one shown.
    /// </summary>
    public async Task<CampaignPage> CampaignsAsync(CampaignFilter filter, int pageSize, CampaignKey? after, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = Listed(db);
        if (filter.Statuses is { Count: > 0 } statuses)
        {
            query = query.Where(o => statuses.Contains(o.Status));
        }
        if (filter.Search?.Trim() is { Length: > 0 } search)
        {
            // SQLite's LIKE ignores case (A-Z); PostgreSQL's ILIKE does (all letters). The user's % and _ are taken as themselves.
            var pattern = "%" + search.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
            query = db.Database.IsNpgsql()
                ? query.Where(o => o.Name != null && EF.Functions.ILike(o.Name, pattern, "\\"))
                : query.Where(o => o.Name != null && EF.Functions.Like(o.Name, pattern, "\\"));
        }
        if (filter.CreatedFrom is { } from)
        {
            query = query.Where(o => o.CreatedAt >= from);
        }
        if (filter.CreatedBefore is { } before)
        {
            query = query.Where(o => o.CreatedAt < before);
        }
        var desc = filter.Descending;
        query = filter.Sort switch
        {
            CampaignSort.Name => db.Database.IsNpgsql() ? SeekByFoldedName(query, after, desc) : SeekByName(query, after, desc, "NOCASE"),
            CampaignSort.Status => SeekByStatus(query, after, desc),
            CampaignSort.Size => SeekBySize(query, after, desc),
            _ => SeekByCreated(query, after, desc),
        };
        var rows = await query.Take(pageSize + 1).ToListAsync(ct);
        var next = rows.Count > pageSize ? CampaignKey.Of(rows[pageSize - 1], filter.Sort) : null;
        return new CampaignPage(rows.Take(pageSize).Select(OperationView.Of).ToList(), next);
    }

    private static IQueryable<Operation> SeekByCreated(IQueryable<Operation> q, CampaignKey? after, bool desc)
    {
        if (after is { } k)
        {
            var at = DateTimeOffset.FromUnixTimeMilliseconds(k.Number);
            q = desc
                ? q.Where(o => o.CreatedAt < at || (o.CreatedAt == at && o.Id < k.Id))
                : q.Where(o => o.CreatedAt > at || (o.CreatedAt == at && o.Id > k.Id));
        }
        return desc ? q.OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id) : q.OrderBy(o => o.CreatedAt).ThenBy(o => o.Id);
    }

    /// <summary>
    /// By name regardless of case; unnamed operations sort as an empty name. The database does the comparing for the
    /// order and the seek alike, so a page never starts on a name .NET would have lowered differently: SQLite's NOCASE
    /// here, <see cref="SeekByFoldedName"/> on PostgreSQL.
    /// </summary>
    /// <summary>
    /// By name on PostgreSQL in SQLite's NOCASE order: A–Z folded (lower() under the column's collation "C" folds
    /// ASCII letters only), then code point order, so "Été" comes after "Zebra" on both providers rather than beside
    /// "Autumn" as a linguistic (ICU) order would put it. The cursor's name is folded the same way in .NET.
    /// </summary>
    private static IQueryable<Operation> SeekByFoldedName(IQueryable<Operation> q, CampaignKey? after, bool desc)
    {
        if (after is { } k)
        {
            var name = AsciiLower(k.Text ?? "");
            q = desc
                ? q.Where(o => string.Compare(EF.Functions.Collate((o.Name ?? "").ToLower(), "C"), name) < 0 ||
                               (EF.Functions.Collate((o.Name ?? "").ToLower(), "C") == name && o.Id < k.Id))
                : q.Where(o => string.Compare(EF.Functions.Collate((o.Name ?? "").ToLower(), "C"), name) > 0 ||
                               (EF.Functions.Collate((o.Name ?? "").ToLower(), "C") == name && o.Id > k.Id));
        }
        return desc
            ? q.OrderByDescending(o => EF.Functions.Collate((o.Name ?? "").ToLower(), "C")).ThenByDescending(o => o.Id)
            : q.OrderBy(o => EF.Functions.Collate((o.Name ?? "").ToLower(), "C")).ThenBy(o => o.Id);
    }

    private static string AsciiLower(string text) =>
        string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = source[i] is >= 'A' and <= 'Z' ? (char)(source[i] + 32) : source[i];
            }
        });

    private static IQueryable<Operation> SeekByName(IQueryable<Operation> q, CampaignKey? after, bool desc, string collation)
    {
        if (after is { } k)
        {
            var name = k.Text ?? "";
            q = desc
                ? q.Where(o => string.Compare(EF.Functions.Collate(o.Name ?? "", collation), name) < 0 ||
                               (EF.Functions.Collate(o.Name ?? "", collation) == name && o.Id < k.Id))
                : q.Where(o => string.Compare(EF.Functions.Collate(o.Name ?? "", collation), name) > 0 ||
                               (EF.Functions.Collate(o.Name ?? "", collation) == name && o.Id > k.Id));
        }
        return desc
            ? q.OrderByDescending(o => EF.Functions.Collate(o.Name ?? "", collation)).ThenByDescending(o => o.Id)
            : q.OrderBy(o => EF.Functions.Collate(o.Name ?? "", collation)).ThenBy(o => o.Id);
    }

    /// <summary>By status in the order a campaign lives them: scheduled, processing, paused, completed, canceled.</summary>
    private static IQueryable<Operation> SeekByStatus(IQueryable<Operation> q, CampaignKey? after, bool desc)
    {
        if (after is { } k)
        {
            var status = (OperationStatus)k.Number;
            q = desc
                ? q.Where(o => o.Status < status || (o.Status == status && o.Id < k.Id))
                : q.Where(o => o.Status > status || (o.Status == status && o.Id > k.Id));
        }
        return desc ? q.OrderByDescending(o => o.Status).ThenByDescending(o => o.Id) : q.OrderBy(o => o.Status).ThenBy(o => o.Id);
    }

    /// <summary>By number of messages.</summary>
    private static IQueryable<Operation> SeekBySize(IQueryable<Operation> q, CampaignKey? after, bool desc)
    {
        if (after is { } k)
        {
            q = desc
                ? q.Where(o => o.Total < k.Number || (o.Total == k.Number && o.Id < k.Id))
                : q.Where(o => o.Total > k.Number || (o.Total == k.Number && o.Id > k.Id));
        }
        return desc ? q.OrderByDescending(o => o.Total).ThenByDescending(o => o.Id) : q.OrderBy(o => o.Total).ThenBy(o => o.Id);
    }

    /// <summary>The dashboard's view of an operation: its figures, and an A/B operation's variants side by side.</summary>
    public async Task<OperationView> ViewAsync(Operation operation, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await OperationView.ReadAsync(db, store, operation, ct);
    }

    public async Task<Operation?> OperationAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<Operation>().AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, ct);
    }

    /// <summary>Which first steps this install has taken, read from what exists (see the dashboard's checklist).</summary>
    public async Task<FirstRunSteps> FirstRunAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return new FirstRunSteps(
            HasSender: await db.Set<Sender>().AnyAsync(ct),
            HasGroup: await db.Set<Group>().AnyAsync(g => g.RecipientCount > 0, ct),
            HasContent: await db.Set<ContentTemplate>().AnyAsync(ct),
            HasLaunched: await Listed(db).AnyAsync(ct));
    }

    /// <summary>Totals across every operation, for the home dashboard.</summary>
    public async Task<CampaignTotals> TotalsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var totals = await Listed(db)
            .GroupBy(_ => 1)
            .Select(g => new CampaignTotals(
                g.Count(),
                g.Count(o => o.Status == OperationStatus.Processing),
                g.Count(o => o.Status == OperationStatus.Scheduled),
                g.Sum(o => o.Total),
                g.Sum(o => o.Sent + o.Delivered + o.Read + o.Undelivered),
                g.Sum(o => o.Delivered + o.Read),
                g.Sum(o => o.Failed)))
            .FirstOrDefaultAsync(ct);
        return totals ?? new CampaignTotals(0, 0, 0, 0, 0, 0, 0);
    }

    /// <summary>The operation's messages in ID order, filtered by status and address prefix.</summary>
    public async Task<KeysetPage<MessageView>> MessagesAsync(long operationId, MessageStatus? status, string? addressPrefix, int pageSize, long? after, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var operation = await db.Set<Operation>().AsNoTracking().FirstOrDefaultAsync(o => o.Id == operationId, ct);
        if (operation is null)
        {
            return new KeysetPage<MessageView>([], null);
        }
        var from = (after ?? 0) + 1;
        var prefix = addressPrefix?.Trim() ?? "";
        var query = OperationMessages.WhereIn(db.Set<Message>().AsNoTracking().Where(m => m.Id >= from), operation, byAddress: prefix.Length > 0);
        if (status is { } s)
        {
            // QUEUED on screen includes messages a job has claimed and is handing to the provider.
            // And SCHEDULED the messages an A/B test holds for its winner.
            query = s switch
            {
                MessageStatus.Queued => query.Where(m => m.Status == MessageStatus.Queued || m.Status == MessageStatus.Sending),
                MessageStatus.Scheduled => query.Where(m => m.Status == MessageStatus.Scheduled || m.Status == MessageStatus.Held),
                _ => query.Where(m => m.Status == s),
            };
        }
        if (prefix.Length > 0)
        {
            query = query.Where(m => m.Address.StartsWith(prefix));
        }
        var rows = await query.OrderBy(m => m.Id).Take(pageSize + 1).ToListAsync(ct);
        long? next = rows.Count > pageSize ? rows[pageSize - 1].Id : null;
        return new KeysetPage<MessageView>(rows.Take(pageSize).Select(m => MessageView.Of(m, operation)).ToList(), next);
    }

    /// <summary>Failed and undelivered messages grouped by error, most frequent first.</summary>
    public async Task<IReadOnlyList<FailureReason>> FailureReasonsAsync(long operationId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var operation = await db.Set<Operation>().AsNoTracking().FirstOrDefaultAsync(o => o.Id == operationId, ct);
        if (operation is null || operation.Failed + operation.Undelivered + operation.Unaddressable == 0)
        {
            return [];
        }
        var rows = await db.Set<Message>().AsNoTracking()
            .Where(m => m.Id >= operation.FirstMessageId && m.Id <= operation.LastMessageId &&
                        (m.Status == MessageStatus.Failed || m.Status == MessageStatus.Undelivered || m.Status == MessageStatus.Unaddressable))
            .GroupBy(m => new { m.ErrorCode, m.ErrorMessage, m.Status })
            .Select(g => new { g.Key.ErrorCode, g.Key.ErrorMessage, g.Key.Status, Count = g.LongCount() })
            .OrderByDescending(r => r.Count)
            .Take(20)
            .ToListAsync(ct);
        return rows.Select(r => new FailureReason(r.ErrorCode, r.ErrorMessage, r.Status, r.Count)).ToList();
    }

    /// <summary>Messages sent per second over the last <paramref name="window"/>, read from when each was sent.</summary>
    public async Task<IReadOnlyList<ThroughputPoint>> ThroughputAsync(long operationId, TimeSpan window, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var operation = await db.Set<Operation>().AsNoTracking().FirstOrDefaultAsync(o => o.Id == operationId, ct);
        if (operation is null)
        {
            return [];
        }
        var end = operation.CompletedAt ?? clock.GetUtcNow();
        var sinceMs = (end - window).ToUnixTimeMilliseconds();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        await using var command = connection.CreateCommand();
        // Quoted names and @parameters: the same statement on SQLite and PostgreSQL (COUNT is an int8 there).
        command.CommandText = """
            SELECT "SentAt" / 1000 AS second, CAST(COUNT(*) AS INTEGER) FROM "Messages"
            WHERE "Id" BETWEEN @first AND @last AND "SentAt" >= @since
            GROUP BY "SentAt" / 1000 ORDER BY second
            """;
        AddParameter(command, "@first", operation.FirstMessageId);
        AddParameter(command, "@last", operation.LastMessageId);
        AddParameter(command, "@since", sinceMs);
        var points = new List<ThroughputPoint>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            points.Add(new ThroughputPoint(DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(0)), (int)reader.GetInt64(1)));
        }
        return points;
    }

    private static void AddParameter(System.Data.Common.DbCommand command, string name, long value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}

public sealed record CampaignTotals(int Campaigns, int Running, int Scheduled, long Messages, long Sent, long Delivered, long Failed);

public enum CampaignSort
{
    Created,
    Name,
    Status,
    Size,
}

/// <summary>Which campaigns a list shows and in what order. <see cref="CreatedBefore"/> is exclusive.</summary>
public sealed record CampaignFilter(
    string? Search = null,
    IReadOnlyCollection<OperationStatus>? Statuses = null,
    DateTimeOffset? CreatedFrom = null,
    DateTimeOffset? CreatedBefore = null,
    CampaignSort Sort = CampaignSort.Created,
    bool Descending = true);

/// <summary>Where a page of campaigns starts: the sort key of the row before it (a number, or a name) and its ID.</summary>
public sealed record CampaignKey(long Number, string? Text, long Id)
{
    public static CampaignKey Of(Operation o, CampaignSort sort) => sort switch
    {
        CampaignSort.Name => new(0, o.Name ?? "", o.Id),
        CampaignSort.Status => new((long)o.Status, null, o.Id),
        CampaignSort.Size => new(o.Total, null, o.Id),
        _ => new(o.CreatedAt.ToUnixTimeMilliseconds(), null, o.Id),
    };
}

public sealed record CampaignPage(IReadOnlyList<OperationView> Rows, CampaignKey? Next);

/// <summary>The four steps from a fresh install to a first campaign; each is done when its thing exists.</summary>
public sealed record FirstRunSteps(bool HasSender, bool HasGroup, bool HasContent, bool HasLaunched)
{
    public bool AllDone => HasSender && HasGroup && HasContent && HasLaunched;
}
