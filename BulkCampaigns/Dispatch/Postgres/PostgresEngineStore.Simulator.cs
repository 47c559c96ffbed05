using System.Text.Json;
using BulkCampaigns.Operations;

namespace BulkCampaigns.Dispatch.Postgres;

/// <summary>
/// The Simulator's carrier: what it received, and its delivery reports. Its reports go in ID order from a mark, so
/// the mark must never pass an ID whose row is not committed yet: with many writers a later ID can commit first. Storing
/// holds <see cref="LockSpace.SimulatorInbox"/> shared; the report round takes it exclusively, so when it reads, every
/// ID handed out so far is committed (and the next ones are higher).
/// </summary>
public sealed partial class PostgresEngineStore
{
    private const string RecordSimulatedSql = """
        INSERT INTO "SimulatorMessages" ("From", "To", "Body", "MediaJson", "ReceivedAt", "CallbackMessageId", "WillDeliver", "ReportDueAt")
        SELECT u.f, u.t, u.b, u.media, @now, u.id, u.d, @due
        FROM unnest(@froms, @tos, @bodies, @media, @ids, @delivers) WITH ORDINALITY AS u(f, t, b, media, id, d, ord)
        ORDER BY u.ord
        RETURNING "Id"
        """;

    private const string FindSimulatedSql = """
        SELECT "Id", "ReceivedAt" FROM "SimulatorMessages"
        WHERE "To" = @to AND "From" = @from AND "ReceivedAt" >= @after AND "Body" = @body
        ORDER BY "Id" LIMIT 1
        """;

    /// <summary>
    /// The mark, and how far this round may go: up to the first report not due, or whose message is still in flight
    /// (SENDING, or QUEUED in a claimed range). Each of the window's messages is looked up by its key (a correlated
    /// EXISTS): written as a LEFT JOIN, the planner hashed the whole Messages table for a window of 5,000 (a 1M-row
    /// sequential scan, ~3 s a round on a busy server), while every simulated send waited for the round's lock.
    /// </summary>
    private const string SimulatedWindowSql = """
        WITH mark AS (SELECT "ReportedThroughId" AS id FROM "SimulatorReportMarks" WHERE "Id" = 1 FOR UPDATE),
        w AS MATERIALIZED (
            SELECT s."Id", s."ReportDueAt", s."CallbackMessageId" FROM "SimulatorMessages" s
            WHERE s."Id" > (SELECT id FROM mark) ORDER BY s."Id" LIMIT @limit)
        SELECT (SELECT id FROM mark),
               COALESCE((SELECT min(w."Id") - 1 FROM w
                         WHERE w."ReportDueAt" > @now
                            OR EXISTS (SELECT 1 FROM "Messages" m WHERE m."Id" = w."CallbackMessageId"
                                       AND (m."Status" = @sending
                                            OR (m."Status" = @queued AND EXISTS (SELECT 1 FROM "ClaimedBatches" c
                                                    WHERE c."OperationId" = m."OperationId" AND m."Id" BETWEEN c."FromId" AND c."ToId"))))),
                        (SELECT max("Id") FROM w))
        """;

    /// <summary>The window's reports in one statement, its counter changes summed where they are made.</summary>
    private const string SimulatedApplySql = """
        WITH moved AS (
            UPDATE "Messages" m SET
                "Status" = CASE WHEN d."WillDeliver" THEN @delivered ELSE @undelivered END,
                "ErrorCode" = CASE WHEN d."WillDeliver" THEN m."ErrorCode" ELSE '30003' END,
                "ErrorMessage" = CASE WHEN d."WillDeliver" THEN m."ErrorMessage" ELSE 'Unreachable destination handset (simulated)' END,
                "UpdatedAt" = @now
            FROM "SimulatorMessages" d
            WHERE d."Id" > @mark AND d."Id" <= @through AND m."Id" = d."CallbackMessageId" AND m."Status" = @sent
            RETURNING m."OperationId", m."Status")
        SELECT "OperationId", "Status", count(*) FROM moved GROUP BY "OperationId", "Status"
        """;

    /// <summary>
    /// The window's operations' rows, in ID order, before any of their messages (the engine's rule): a round that
    /// moved messages first and then waited for an operation's row deadlocked with a click round, which holds the
    /// row and then wants the messages.
    /// </summary>
    private const string LockSimulatedOperationsSql = """
        SELECT o."Id" FROM "Operations" o
        WHERE o."Id" IN (SELECT (SELECT m."OperationId" FROM "Messages" m WHERE m."Id" = d."CallbackMessageId")
                         FROM "SimulatorMessages" d WHERE d."Id" > @mark AND d."Id" <= @through)
        ORDER BY o."Id" FOR NO KEY UPDATE
        """;

    public async Task<long[]> RecordSimulatedAsync(IReadOnlyList<SimulatedSend> sends, long now, long reportDueAt, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await LockAsync(connection, tx, LockSpace.SimulatorInbox, 0, shared: true, ct);
        var ids = new List<long>(sends.Count);
        await using (var insert = Sql(connection, tx, RecordSimulatedSql))
        {
            insert.Add("froms", sends.Select(s => s.From).ToArray()).Add("tos", sends.Select(s => s.To).ToArray())
                .Add("bodies", sends.Select(s => s.Body).ToArray())
                .Add("media", sends.Select(s => s.Media.Count == 0 ? "[]" : JsonSerializer.Serialize(s.Media)).ToArray())
                .Add("ids", sends.Select(s => s.MessageId).ToArray()).Add("delivers", sends.Select(s => s.WillDeliver).ToArray())
                .Add("now", now).Add("due", reportDueAt);
            await using var reader = await insert.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                ids.Add(reader.GetInt64(0));
            }
        }
        if (ids.Count != sends.Count)
        {
            throw new InvalidOperationException($"The simulator recorded {ids.Count} of {sends.Count} messages.");
        }
        await tx.CommitAsync(ct);
        // The rows take their IDs in the order they are inserted (the sends' order); RETURNING need not keep it.
        ids.Sort();
        return [.. ids];
    }

    public async Task<(long Id, DateTimeOffset ReceivedAt)?> FindSimulatedAsync(string from, string to, DateTimeOffset after, string body, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = Sql(connection, null, FindSimulatedSql);
        command.Add("to", to).Add("from", from).Add("after", after.ToUnixTimeMilliseconds()).Add("body", body);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? (reader.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)))
            : null;
    }

    public async Task<SimulatedReports> ReportSimulatedAsync(long now, int limit, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // The window's estimate (5,000 key lookups) is over jit_above_cost: compiling it would cost more than running it.
        // Every statement of the round reaches at most `limit` messages, each by its key; with the default page costs
        // (random_page_cost 4, a disk's) the planner judged 5,000 look-ups dearer than reading the whole Messages table
        // (a hash join over a sequential scan, or a merge join from its first row): 183-264 ms a round against 12 ms for
        // the look-ups (EXPLAIN ANALYZE on 600,000 messages), while every simulated send waited for the round's lock.
        await using (var settings = Sql(connection, tx, "SET LOCAL jit = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"))
        {
            await settings.ExecuteNonQueryAsync(ct);
        }
        await LockAsync(connection, tx, LockSpace.SimulatorInbox, 0, shared: false, ct);
        long mark, through;
        await using (var window = Sql(connection, tx, SimulatedWindowSql))
        {
            window.Add("now", now).Add("limit", limit).Add("sending", MessageStatus.Sending).Add("queued", MessageStatus.Queued);
            await using var reader = await window.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            mark = reader.GetInt64(0);
            through = reader.IsDBNull(1) ? mark : reader.GetInt64(1);
        }
        if (through <= mark)
        {
            return new SimulatedReports(0, []);
        }
        await using (var lockOperations = Sql(connection, tx, LockSimulatedOperationsSql))
        {
            lockOperations.Add("mark", mark).Add("through", through);
            await lockOperations.ExecuteNonQueryAsync(ct);
        }
        var deltas = new Dictionary<long, StatsDelta>();
        await using (var apply = Sql(connection, tx, SimulatedApplySql))
        {
            // Only SENT messages move on: a report for a message already moved on (a duplicate send) changes nothing.
            apply.Add("now", now).Add("mark", mark).Add("through", through).Add("sent", MessageStatus.Sent)
                .Add("delivered", MessageStatus.Delivered).Add("undelivered", MessageStatus.Undelivered);
            await using var reader = await apply.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var operationId = reader.GetInt64(0);
                if (!deltas.TryGetValue(operationId, out var delta))
                {
                    deltas[operationId] = delta = new StatsDelta();
                }
                delta.Move(MessageStatus.Sent, (MessageStatus)reader.GetInt32(1), reader.GetInt64(2));
            }
        }
        await using (var move = Sql(connection, tx, """UPDATE "SimulatorReportMarks" SET "ReportedThroughId" = @through WHERE "Id" = 1"""))
        {
            move.Add("through", through);
            await move.ExecuteNonQueryAsync(ct);
        }
        await PostgresCounters.ApplyAsync(connection, tx, deltas, now, ct);
        await tx.CommitAsync(ct);
        return new SimulatedReports((int)Math.Min(limit, through - mark), deltas.Keys);
    }
}
