using BulkCampaigns.Dispatch.Sqlite;

namespace BulkCampaigns.Dispatch.Postgres;

/// <summary>Tracked links: the redirect's look-up by primary key and rounds of clicks, one transaction each.</summary>
public sealed partial class PostgresEngineStore
{
    private const string LinkMessageSql = """
        SELECT m."OperationId", m."Address", m."Channel", m."VariablesJson", o."ContentJson", o."FromAddress", o."FromChannel"
        FROM "Messages" m JOIN "Operations" o ON o."Id" = m."OperationId" WHERE m."Id" = @id
        """;

    /// <summary>The operations' rows first, in ID order (the engine's rule: an operation's row before its messages).</summary>
    private const string LockClickedOperationsSql = """
        SELECT "Id" FROM "Operations" WHERE "Id" = ANY(@ops) ORDER BY "Id" FOR NO KEY UPDATE
        """;

    private const string InsertClicksSql = """
        INSERT INTO "LinkClicks" ("OperationId", "MessageId", "LinkIndex", "Url", "At")
        SELECT * FROM unnest(@ops, @messages, @indexes, @urls, @at)
        """;

    private const string CountMessageClicksSql = """
        UPDATE "Messages" m SET "Clicks" = m."Clicks" + u.n, "ClickedAt" = COALESCE(m."ClickedAt", u.t)
        FROM unnest(@ids, @counts, @firsts) AS u(id, n, t)
        WHERE m."Id" = u.id
        RETURNING m."OperationId", m."Clicks" = u.n, u.n
        """;

    private const string CountOperationClicksSql = """
        UPDATE "Operations" o SET "Clicked" = o."Clicked" + u.clicked, "Clicks" = o."Clicks" + u.clicks
        FROM unnest(@ops, @clicked, @clicks) AS u(id, clicked, clicks) WHERE o."Id" = u.id
        """;

    public async Task<LinkMessage?> ReadLinkMessageAsync(long messageId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = Sql(connection, null, LinkMessageSql);
        command.Add("id", messageId);
        await using var row = await command.ExecuteReaderAsync(ct);
        return await LinkMessage.ReadAsync(row, messageId, ct);
    }

    public async Task<IReadOnlyCollection<long>> RecordClicksAsync(IReadOnlyList<ClickRecord> clicks, CancellationToken ct)
    {
        if (clicks.Count == 0)
        {
            return [];
        }
        var perMessage = LinkClickRounds.PerMessage(clicks);
        var perOperation = new Dictionary<long, (long Clicked, long Clicks)>();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var lockRows = Sql(connection, tx, LockClickedOperationsSql))
        {
            lockRows.Add("ops", clicks.Select(c => c.OperationId).Distinct().ToArray());
            await lockRows.ExecuteNonQueryAsync(ct);
        }
        await using (var insert = Sql(connection, tx, InsertClicksSql))
        {
            insert.Add("ops", clicks.Select(c => c.OperationId).ToArray())
                .Add("messages", clicks.Select(c => c.MessageId).ToArray())
                .Add("indexes", clicks.Select(c => c.LinkIndex).ToArray())
                .Add("urls", clicks.Select(c => c.Url).ToArray())
                .Add("at", clicks.Select(c => c.At).ToArray());
            await insert.ExecuteNonQueryAsync(ct);
        }
        await using (var count = Sql(connection, tx, CountMessageClicksSql))
        {
            count.Add("ids", perMessage.Keys.ToArray())
                .Add("counts", perMessage.Values.Select(v => (int)v.Count).ToArray())
                .Add("firsts", perMessage.Values.Select(v => v.First).ToArray());
            await using var updated = await count.ExecuteReaderAsync(ct);
            while (await updated.ReadAsync(ct))
            {
                var operationId = updated.GetInt64(0);
                var (clicked, all) = perOperation.GetValueOrDefault(operationId);
                perOperation[operationId] = (clicked + (updated.GetBoolean(1) ? 1 : 0), all + updated.GetInt32(2));
            }
        }
        if (perOperation.Count > 0)
        {
            await using var counters = Sql(connection, tx, CountOperationClicksSql);
            counters.Add("ops", perOperation.Keys.ToArray())
                .Add("clicked", perOperation.Values.Select(v => v.Clicked).ToArray())
                .Add("clicks", perOperation.Values.Select(v => v.Clicks).ToArray());
            await counters.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return perOperation.Keys;
    }
}
