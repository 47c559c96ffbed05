using BulkCampaigns.Operations;
using Npgsql;

namespace BulkCampaigns.Dispatch.Postgres;

/// <summary>Delivery reports, early ones (before their send is written) and inbound messages already handled.</summary>
public sealed partial class PostgresEngineStore
{
    /// <summary>Each message's status and operation, and whether it is in flight in a claimed range (QUEUED inside one).</summary>
    private const string ReadReportedSql = """
        SELECT m."Id", m."Status", m."OperationId",
               m."Status" = @queued AND EXISTS (SELECT 1 FROM "ClaimedBatches" c WHERE c."OperationId" = m."OperationId" AND m."Id" BETWEEN c."FromId" AND c."ToId")
        FROM "Messages" m WHERE m."Id" = ANY(@ids)
        """;

    private const string LockOperationsSql = """
        SELECT 1 FROM "Operations" WHERE "Id" = ANY(@ops) ORDER BY "Id" FOR NO KEY UPDATE
        """;

    /// <summary>
    /// Every report of a round in one statement: each message from the status it was read in to where its reports
    /// took it. A message that moved meanwhile (another report, a retry) is not matched and its reports are ignored.
    /// </summary>
    private const string ApplyReportsSql = """
        UPDATE "Messages" m SET "Status" = u.s, "ErrorCode" = COALESCE(u.c, m."ErrorCode"), "ErrorMessage" = COALESCE(u.e, m."ErrorMessage"), "UpdatedAt" = @now
        FROM unnest(@ids, @statuses, @codes, @messages, @olds) AS u(id, s, c, e, old)
        WHERE m."Id" = u.id AND m."Status" = u.old
        RETURNING m."Id"
        """;

    private const string KeepEarlySql = """
        INSERT INTO "EarlyReports" ("MessageId", "Status", "ErrorCode", "ErrorMessage", "ReceivedAt")
        SELECT u.id, u.s, u.c, u.e, @at FROM unnest(@ids, @statuses, @codes, @messages) AS u(id, s, c, e)
        ON CONFLICT ("MessageId") DO UPDATE SET "Status" = excluded."Status", "ErrorCode" = excluded."ErrorCode",
            "ErrorMessage" = excluded."ErrorMessage", "ReceivedAt" = excluded."ReceivedAt"
        WHERE excluded."Status" > "EarlyReports"."Status"
        """;

    private const string TakeEarlySql = """
        DELETE FROM "EarlyReports" WHERE "MessageId" = ANY(@ids) RETURNING "MessageId", "Status", "ErrorCode", "ErrorMessage"
        """;

    /// <summary>
    /// A report whose message is in flight (SENDING, or QUEUED in a claimed range) may come while a batch is writing that
    /// message's outcome in another transaction: kept as an early report it could be missed by the batch (which looks
    /// for early reports before this commits) although this saw the message in flight (before the batch committed). So,
    /// when a message is in flight, this locks its operation's row first, as the batch does: it waits for a batch
    /// writing now and holds off the next, then reads the statuses again. A report is kept only for a message no batch
    /// is writing, and the batch that writes it will find it.
    /// </summary>
    public async Task<AppliedReports> ApplyReportsAsync(IReadOnlyList<DeliveryReport> reports, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var ids = reports.Select(r => r.MessageId).Distinct().ToArray();
        var current = await ReadReportedAsync(connection, tx, ids, ct);
        if (current.Values.Any(m => m.Status == MessageStatus.Sending))
        {
            await using (var lockRows = Sql(connection, tx, LockOperationsSql))
            {
                lockRows.Add("ops", current.Values.Select(m => m.OperationId).Distinct().Order().ToArray());
                await lockRows.ExecuteNonQueryAsync(ct);
            }
            current = await ReadReportedAsync(connection, tx, ids, ct);
        }
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var applied = await ApplyReportsAsync(connection, tx, reports, current, now, ct);
        var early = new Dictionary<long, DeliveryReport>();
        for (var i = 0; i < reports.Count; i++)
        {
            // Of several early reports for one message, the furthest status is kept (the first of it).
            if (applied.Results[i] == ReportResult.NotYet && (!early.TryGetValue(reports[i].MessageId, out var kept) || reports[i].Status > kept.Status))
            {
                early[reports[i].MessageId] = reports[i];
            }
        }
        if (early.Count > 0)
        {
            var keep = early.Values.ToList();
            await using var insert = Sql(connection, tx, KeepEarlySql);
            insert.Add("ids", keep.Select(r => r.MessageId).ToArray()).Add("statuses", keep.Select(r => (int)r.Status).ToArray())
                .Add("codes", keep.Select(r => r.ErrorCode).ToArray()).Add("messages", keep.Select(r => r.ErrorMessage).ToArray())
                .Add("at", now);
            await insert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return applied;
    }

    private sealed record Reported(MessageStatus Status, long OperationId);

    private static async Task<Dictionary<long, Reported>> ReadReportedAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long[] ids, CancellationToken ct)
    {
        var current = new Dictionary<long, Reported>(ids.Length);
        await using var read = Sql(connection, tx, ReadReportedSql);
        read.Add("ids", ids).Add("queued", MessageStatus.Queued);
        await using var reader = await read.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            // In a claimed range it counts as SENDING (see ClaimedBatch): its report waits like one.
            current[reader.GetInt64(0)] = new Reported(reader.GetBoolean(3) ? MessageStatus.Sending : (MessageStatus)reader.GetInt32(1), reader.GetInt64(2));
        }
        return current;
    }

    /// <summary>
    /// Works out, in order, where each message's reports take it (<see cref="DeliveryReport.Allowed"/>, as if applied
    /// one by one), writes that in one statement and the counters in another.
    /// </summary>
    private static async Task<AppliedReports> ApplyReportsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<DeliveryReport> reports, Dictionary<long, Reported> current, long now, CancellationToken ct)
    {
        var results = new ReportResult[reports.Count];
        var moves = new Dictionary<long, (MessageStatus From, MessageStatus To, string? Code, string? Message, long OperationId)>();
        for (var i = 0; i < reports.Count; i++)
        {
            var report = reports[i];
            if (!current.TryGetValue(report.MessageId, out var message))
            {
                results[i] = ReportResult.Ignored;
                continue;
            }
            var status = moves.TryGetValue(report.MessageId, out var move) ? move.To : message.Status;
            if (status is MessageStatus.Sending)
            {
                results[i] = ReportResult.NotYet;
                continue;
            }
            if (!DeliveryReport.Allowed(status, report.Status))
            {
                results[i] = ReportResult.Ignored;
                continue;
            }
            moves[report.MessageId] = moves.ContainsKey(report.MessageId)
                ? (move.From, report.Status, report.ErrorCode ?? move.Code, report.ErrorMessage ?? move.Message, message.OperationId)
                : (message.Status, report.Status, report.ErrorCode, report.ErrorMessage, message.OperationId);
            results[i] = ReportResult.Applied;
        }
        if (moves.Count == 0)
        {
            return new AppliedReports(results, []);
        }

        // In ID order, so two rounds touching the same messages lock them in the same order.
        var ordered = moves.OrderBy(m => m.Key).ToList();
        var written = new HashSet<long>(ordered.Count);
        await using (var update = Sql(connection, tx, ApplyReportsSql))
        {
            update.Add("ids", ordered.Select(m => m.Key).ToArray()).Add("statuses", ordered.Select(m => (int)m.Value.To).ToArray())
                .Add("codes", ordered.Select(m => m.Value.Code).ToArray()).Add("messages", ordered.Select(m => m.Value.Message).ToArray())
                .Add("olds", ordered.Select(m => (int)m.Value.From).ToArray()).Add("now", now);
            await using var reader = await update.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                written.Add(reader.GetInt64(0));
            }
        }
        var deltas = new Dictionary<long, StatsDelta>();
        foreach (var (id, move) in ordered)
        {
            if (!written.Contains(id))
            {
                continue;
            }
            if (!deltas.TryGetValue(move.OperationId, out var delta))
            {
                deltas[move.OperationId] = delta = new StatsDelta();
            }
            delta.Move(move.From, move.To);
        }
        for (var i = 0; i < reports.Count; i++)
        {
            if (results[i] == ReportResult.Applied && !written.Contains(reports[i].MessageId))
            {
                results[i] = ReportResult.Ignored;
            }
        }
        await PostgresCounters.ApplyAsync(connection, tx, deltas, now, ct);
        return new AppliedReports(results, deltas.Keys);
    }

    /// <summary>Applies the kept early reports of messages just written (in the same transaction); returns the operations touched.</summary>
    private static async Task<IReadOnlyCollection<long>> ApplyEarlyReportsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, HashSet<long> messageIds, long now, CancellationToken ct)
    {
        if (messageIds.Count == 0)
        {
            return [];
        }
        var early = new List<DeliveryReport>();
        await using (var take = Sql(connection, tx, TakeEarlySql))
        {
            take.Add("ids", messageIds.ToArray());
            await using var reader = await take.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                early.Add(new DeliveryReport(reader.GetInt64(0), (MessageStatus)reader.GetInt32(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
            }
        }
        if (early.Count == 0)
        {
            return [];
        }
        var current = await ReadReportedAsync(connection, tx, early.Select(r => r.MessageId).ToArray(), ct);
        return (await ApplyReportsAsync(connection, tx, early, current, now, ct)).Operations;
    }

    public async Task<long?> FindMessageByProviderIdAsync(string providerMessageId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var find = Sql(connection, null, """SELECT "Id" FROM "Messages" WHERE "ProviderMessageId" = @sid LIMIT 1""");
        find.Add("sid", providerMessageId);
        return await find.ExecuteScalarAsync(ct) as long?;
    }

    public async Task<bool> ClaimInboundAsync(string providerMessageId, long now, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var claim = Sql(connection, null, """
            INSERT INTO "ProcessedWebhooks" ("MessageSid", "ReceivedAt") VALUES (@sid, @now) ON CONFLICT ("MessageSid") DO NOTHING
            """);
        claim.Add("sid", providerMessageId).Add("now", now);
        return await claim.ExecuteNonQueryAsync(ct) > 0;
    }
}
