using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
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
public sealed class CampaignQueries(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    /// <summary>Newest first; <paramref name="before"/> is the last ID of the previous page.</summary>
    public async Task<KeysetPage<OperationView>> OperationsAsync(IReadOnlyCollection<OperationStatus>? statuses, int pageSize, long? before, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Set<Operation>().AsNoTracking();
        if (statuses is { Count: > 0 })
        {
            query = query.Where(o => statuses.Contains(o.Status));
        }
        if (before is { } b)
        {
            query = query.Where(o => o.Id < b);
        }
        var rows = await query.OrderByDescending(o => o.Id).Take(pageSize + 1).ToListAsync(ct);
        long? next = rows.Count > pageSize ? rows[pageSize - 1].Id : null;
        return new KeysetPage<OperationView>(rows.Take(pageSize).Select(OperationView.Of).ToList(), next);
    }

    public async Task<Operation?> OperationAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<Operation>().AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, ct);
    }

    /// <summary>Totals across every operation, for the home dashboard.</summary>
    public async Task<CampaignTotals> TotalsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var totals = await db.Set<Operation>().AsNoTracking()
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
            query = s == MessageStatus.Queued
                ? query.Where(m => m.Status == MessageStatus.Queued || m.Status == MessageStatus.Sending)
                : query.Where(m => m.Status == s);
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
        command.CommandText = """
            SELECT SentAt / 1000 AS second, COUNT(*) FROM Messages
            WHERE Id BETWEEN $first AND $last AND SentAt >= $since
            GROUP BY second ORDER BY second
            """;
        AddParameter(command, "$first", operation.FirstMessageId);
        AddParameter(command, "$last", operation.LastMessageId);
        AddParameter(command, "$since", sinceMs);
        var points = new List<ThroughputPoint>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            points.Add(new ThroughputPoint(DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(0)), reader.GetInt32(1)));
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
