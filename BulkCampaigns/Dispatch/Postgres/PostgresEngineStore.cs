using System.Data.Common;
using BulkCampaigns.Data;
using BulkCampaigns.Operations;
using Npgsql;
using OperationStatus = BulkCampaigns.Operations.OperationStatus;

namespace BulkCampaigns.Dispatch.Postgres;

/// <summary>
/// The engine's hot statements on PostgreSQL (Npgsql). There is no single writer here: every call takes a pooled
/// connection and its own transaction, and the server's row locks keep concurrent writers apart, on one node or many.
/// Many rows go in as arrays (<c>unnest</c>), so a batch's outcomes, a round of reports or a set of counters is one
/// statement; status values are parameters taken from the enums.
/// <para>Locks are always taken in the same order, messages before their operation row, so writers never deadlock:
/// the claim, the record of outcomes and the reports all touch <c>Messages</c> first and <c>Operations</c> (the
/// counters) last. Early reports need one more rule (see <see cref="ApplyReportsAsync"/>): a batch writing its
/// outcomes holds <see cref="LockSpace.Sending"/> of its operation shared, a report that finds its message SENDING
/// takes it exclusively, so the report is either seen by the batch or sees the batch's outcome.</para>
/// The other areas are beside it (<c>PostgresEngineStore.Creation.cs</c>, <c>.Reports.cs</c>, <c>.Simulator.cs</c>, <c>.Counters.cs</c>).
/// </summary>
public sealed partial class PostgresEngineStore(NpgsqlDataSource dataSource, TimeProvider clock) : IEngineStore
{
    /// <summary>The first key of the engine's transaction-scoped advisory locks (pg_advisory_xact_lock(space, key)).</summary>
    internal enum LockSpace
    {
        /// <summary>Per operation: writing outcomes (shared) against keeping an early report (exclusive).</summary>
        Sending = 0x4243_0001,

        /// <summary>Creating an operation (one at a time), so its message IDs run unbroken.</summary>
        Creation = 0x4243_0002,

        /// <summary>The simulated carrier: storing what it received (shared) against reading its report window (exclusive).</summary>
        SimulatorInbox = 0x4243_0003,
    }

    private const string StartSql = """
        UPDATE "Operations" SET "Status" = @processing, "StartedAt" = COALESCE("StartedAt", @now), "UpdatedAt" = @now
        WHERE "Id" = @op AND "Status" = @scheduled_op
        """;

    private const string QueueSql = """
        WITH queued AS (
            UPDATE "Messages" SET "Status" = @queued, "UpdatedAt" = @now
            WHERE "OperationId" = @op AND "Status" = @scheduled
            RETURNING 1)
        SELECT count(*) FROM queued
        """;

    private const string LoadOperationSql = """
        SELECT o."Status", o."SenderId", o."FromAddress", o."FromChannel", o."ContentJson", COALESCE(s."Mps", 1), o."Mps",
               o."QuietStart", o."QuietEnd", o."QuietTimeZone"
        FROM "Operations" o LEFT JOIN "Senders" s ON s."Id" = o."SenderId" WHERE o."Id" = @op
        """;

    /// <summary>
    /// QUEUED → SENDING for the batch's range, in one statement with its counters. <c>FOR UPDATE SKIP LOCKED</c>: a
    /// message another claimer (another run of the range, another node) holds is left to it, never taken twice.
    /// </summary>
    private const string ClaimSql = """
        WITH free AS (
            SELECT "Id" FROM "Messages"
            WHERE "Id" BETWEEN @from AND @to AND "OperationId" = @op AND "Status" = @queued
              AND EXISTS (SELECT 1 FROM "Operations" o WHERE o."Id" = @op AND o."Status" = @processing)
            ORDER BY "Id"
            FOR UPDATE SKIP LOCKED),
        claimed AS (
            UPDATE "Messages" m SET "Status" = @sending, "ClaimedAt" = @now, "UpdatedAt" = @now
            FROM free WHERE m."Id" = free."Id" AND m."Status" = @queued
            RETURNING m."Id", m."Address", m."Channel", m."VariablesJson"),
        counted AS (
            UPDATE "Operations" SET "Queued" = "Queued" - n.c, "Sending" = "Sending" + n.c, "UpdatedAt" = @now
            FROM (SELECT count(*) AS c FROM claimed) n
            WHERE "Id" = @op AND n.c > 0)
        SELECT "Id", "Address", "Channel", "VariablesJson" FROM claimed ORDER BY "Id"
        """;

    private const string InFlightSql = """
        SELECT "Id", "Address", "Channel", "VariablesJson", COALESCE("ClaimedAt", "UpdatedAt") FROM "Messages"
        WHERE "OperationId" = @op AND "Status" = @sending AND COALESCE("ClaimedAt", "UpdatedAt") <= @before
        ORDER BY "Id"
        """;

    /// <summary>Every outcome of a flush in one statement: the rows go in as one array per column.</summary>
    private const string WriteOutcomesSql = """
        UPDATE "Messages" m SET "Status" = u.s, "Body" = u.b, "Segments" = u.g, "ProviderMessageId" = u.p, "SentAt" = u.t,
            "UpdatedAt" = @now, "Attempts" = m."Attempts" + u.a, "ErrorCode" = u.c, "ErrorMessage" = u.e, "Retryable" = u.r,
            "ClaimedAt" = CASE WHEN u.s = @queued THEN NULL ELSE m."ClaimedAt" END
        FROM unnest(@ids, @statuses, @bodies, @segments, @provider_ids, @sent_at, @attempts, @codes, @messages, @retryable)
            AS u(id, s, b, g, p, t, a, c, e, r)
        WHERE m."Id" = u.id AND m."Status" = @sending
        RETURNING m."Id"
        """;

    /// <summary>What a batch put back to QUEUED while its operation was being canceled goes to CANCELED instead.</summary>
    private const string CancelRequeuedSql = """
        WITH canceled AS (
            UPDATE "Messages" SET "Status" = @canceled, "UpdatedAt" = @now
            WHERE "Id" = ANY(@ids) AND "Status" = @queued
            RETURNING 1)
        SELECT count(*) FROM canceled
        """;

    private const string SuppressSql = """
        INSERT INTO "Suppressions" ("Address", "Reason", "Source", "CreatedAt")
        SELECT a, @reason, 'provider', @at FROM unnest(@addresses) AS a
        ON CONFLICT ("Address") DO NOTHING
        """;

    private const string CompleteIfDoneSql = """
        UPDATE "Operations" SET "Status" = @completed, "CompletedAt" = @now, "UpdatedAt" = @now
        WHERE "Id" = @op AND "Status" = @processing AND "Scheduled" = 0 AND "Queued" = 0 AND "Sending" = 0
        """;

    private const string TransitionSql = """
        UPDATE "Operations" SET "Status" = @to, "PauseReason" = @reason, "UpdatedAt" = @now,
            "StartedAt" = CASE WHEN @to = @processing THEN COALESCE("StartedAt", @now) ELSE "StartedAt" END,
            "CompletedAt" = CASE WHEN @to = @canceled_op THEN @now ELSE "CompletedAt" END
        WHERE "Id" = @op AND "Status" = ANY(@from)
        """;

    public async Task<DbConnection> OpenReaderAsync(CancellationToken ct) => await dataSource.OpenConnectionAsync(ct);

    public async Task<bool> StartAsync(long operationId, long now, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var start = Sql(connection, tx, StartSql))
        {
            start.Add("op", operationId).Add("now", now).Add("processing", OperationStatus.Processing).Add("scheduled_op", OperationStatus.Scheduled);
            if (await start.ExecuteNonQueryAsync(ct) == 0)
            {
                return false;
            }
        }
        long moved;
        await using (var queue = Sql(connection, tx, QueueSql))
        {
            queue.Add("op", operationId).Add("now", now).Add("queued", MessageStatus.Queued).Add("scheduled", MessageStatus.Scheduled);
            moved = (long)(await queue.ExecuteScalarAsync(ct))!;
        }
        var delta = new StatsDelta();
        delta.Move(MessageStatus.Scheduled, MessageStatus.Queued, moved);
        await PostgresCounters.ApplyAsync(connection, tx, new Dictionary<long, StatsDelta> { [operationId] = delta }, now, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<BatchOperation?> LoadOperationAsync(DbConnection connection, long operationId, CancellationToken ct)
    {
        await using var command = Sql((NpgsqlConnection)connection, null, LoadOperationSql);
        command.Add("op", operationId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        return new BatchOperation(operationId, (OperationStatus)reader.GetInt32(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5))
        {
            OperationMps = reader.IsDBNull(6) ? null : reader.GetInt32(6),
            Quiet = reader.IsDBNull(7) || reader.IsDBNull(8) || reader.IsDBNull(9) ? null
                : new QuietHours(reader.GetFieldValue<TimeOnly>(7), reader.GetFieldValue<TimeOnly>(8), reader.GetString(9)),
        };
    }

    /// <summary>
    /// Claims the QUEUED messages of the range (QUEUED → SENDING) and reads them, in one statement: no read ahead and
    /// no single writer to spare, so the claim itself answers the addresses and variables.
    /// </summary>
    public async Task<List<BatchMessage>> ClaimAsync(DbConnection reader, long operationId, long fromId, long toId, DateTimeOffset claimedAt, CancellationToken ct)
    {
        await using var claim = Sql((NpgsqlConnection)reader, null, ClaimSql);
        claim.Add("op", operationId).Add("from", fromId).Add("to", toId).Add("now", claimedAt.ToUnixTimeMilliseconds())
            .Add("queued", MessageStatus.Queued).Add("sending", MessageStatus.Sending).Add("processing", OperationStatus.Processing);
        var work = new List<BatchMessage>((int)Math.Min(toId - fromId + 1, 100_000));
        await using var rows = await claim.ExecuteReaderAsync(ct);
        while (await rows.ReadAsync(ct))
        {
            work.Add(new BatchMessage(rows.GetInt64(0), rows.GetString(1), rows.GetString(2), rows.GetString(3)));
        }
        return work;
    }

    public async Task<List<(BatchMessage Message, DateTimeOffset ClaimedAt)>> ReadInFlightAsync(DbConnection connection, long operationId, DateTimeOffset? claimedBefore, Func<long, bool>? held, CancellationToken ct)
    {
        var inFlight = new List<(BatchMessage Message, DateTimeOffset ClaimedAt)>();
        await using var select = Sql((NpgsqlConnection)connection, null, InFlightSql);
        select.Add("op", operationId).Add("before", claimedBefore?.ToUnixTimeMilliseconds() ?? long.MaxValue).Add("sending", MessageStatus.Sending);
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (held?.Invoke(reader.GetInt64(0)) == true)
            {
                continue;
            }
            inFlight.Add((new BatchMessage(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))));
        }
        return inFlight;
    }

    public async Task<RecordedOutcomes> RecordAsync(long operationId, List<BatchMessage> settled, long now, CancellationToken ct)
    {
        var written = new HashSet<long>(settled.Count);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Shared with every other batch of the operation; a report keeping an early report waits (see the class).
        await LockAsync(connection, tx, LockSpace.Sending, operationId, shared: true, ct);
        await WriteOutcomesAsync(connection, tx, settled, now, written, ct);

        var delta = new StatsDelta();
        var unsubscribed = new List<string>();
        var requeued = new List<long>();
        foreach (var p in settled.Where(p => written.Contains(p.Id)))
        {
            delta.Move(MessageStatus.Sending, p.Final);
            delta.Attempts += p.Attempts;
            if (p.Unsubscribed)
            {
                unsubscribed.Add(p.Address);
            }
            if (p.Final == MessageStatus.Queued)
            {
                requeued.Add(p.Id);
            }
        }
        if (unsubscribed.Count > 0)
        {
            await using var suppress = Sql(connection, tx, SuppressSql);
            suppress.Add("addresses", unsubscribed.ToArray()).Add("reason", "The provider reported the recipient unsubscribed.").Add("at", clock.GetUtcNow());
            await suppress.ExecuteNonQueryAsync(ct);
        }
        // The counters lock the operation row and answer its status as it is now: a cancel that came while these
        // messages were out cannot slip between this look and the commit.
        var statuses = await PostgresCounters.ApplyAsync(connection, tx, new Dictionary<long, StatsDelta> { [operationId] = delta }, now, ct);
        if (requeued.Count > 0 && statuses.GetValueOrDefault(operationId) == OperationStatus.Canceled)
        {
            // Canceled while these were claimed: what never went out is CANCELED, not QUEUED again.
            await using var cancel = Sql(connection, tx, CancelRequeuedSql);
            cancel.Add("ids", requeued.ToArray()).Add("now", now).Add("canceled", MessageStatus.Canceled).Add("queued", MessageStatus.Queued);
            var canceled = (long)(await cancel.ExecuteScalarAsync(ct))!;
            var fix = new StatsDelta();
            fix.Move(MessageStatus.Queued, MessageStatus.Canceled, canceled);
            await PostgresCounters.ApplyAsync(connection, tx, new Dictionary<long, StatsDelta> { [operationId] = fix }, now, ct);
            foreach (var p in settled.Where(p => p.Final == MessageStatus.Queued && written.Contains(p.Id)))
            {
                p.Final = MessageStatus.Canceled;
            }
        }
        // After the counters: an early report moves a message on from the SENT just counted.
        await ApplyEarlyReportsAsync(connection, tx, written, now, ct);
        bool completed;
        await using (var complete = Sql(connection, tx, CompleteIfDoneSql))
        {
            complete.Add("op", operationId).Add("now", now).Add("completed", OperationStatus.Completed).Add("processing", OperationStatus.Processing);
            completed = await complete.ExecuteNonQueryAsync(ct) > 0;
        }
        await tx.CommitAsync(ct);
        return new RecordedOutcomes(written, completed);
    }

    private static async Task WriteOutcomesAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<BatchMessage> settled, long now, HashSet<long> written, CancellationToken ct)
    {
        if (settled.Count == 0)
        {
            return;
        }
        var n = settled.Count;
        var ids = new long[n];
        var statuses = new int[n];
        var bodies = new string[n];
        var segments = new int[n];
        var providerIds = new string?[n];
        var sentAt = new long?[n];
        var attempts = new int[n];
        var codes = new string?[n];
        var messages = new string?[n];
        var retryable = new bool[n];
        for (var i = 0; i < n; i++)
        {
            var p = settled[i];
            ids[i] = p.Id;
            statuses[i] = (int)p.Final;
            bodies[i] = p.Body;
            segments[i] = p.Segments;
            providerIds[i] = p.ProviderMessageId;
            sentAt[i] = p.SentAt?.ToUnixTimeMilliseconds();
            attempts[i] = p.Attempts;
            codes[i] = p.Code;
            messages[i] = p.Message;
            retryable[i] = p.Retryable;
        }
        await using var update = Sql(connection, tx, WriteOutcomesSql);
        update.Add("ids", ids).Add("statuses", statuses).Add("bodies", bodies).Add("segments", segments).Add("provider_ids", providerIds)
            .Add("sent_at", sentAt).Add("attempts", attempts).Add("codes", codes).Add("messages", messages).Add("retryable", retryable)
            .Add("now", now).Add("queued", MessageStatus.Queued).Add("sending", MessageStatus.Sending);
        await using var reader = await update.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            written.Add(reader.GetInt64(0));
        }
    }

    public async Task<bool> CompleteIfDoneAsync(long operationId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = Sql(connection, null, CompleteIfDoneSql);
        command.Add("op", operationId).Add("now", UnixMs.Now(clock)).Add("completed", OperationStatus.Completed).Add("processing", OperationStatus.Processing);
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    public async Task<OperationStatus?> ReadStatusAsync(long operationId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await StatusAsync(connection, operationId, ct);
    }

    public async Task<ControlResult?> TransitionAsync(long operationId, OperationStatus[] from, OperationStatus to, string? reason, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = Sql(connection, null, TransitionSql);
        command.Add("op", operationId).Add("to", to).Add("reason", reason).Add("now", UnixMs.Now(clock))
            .Add("from", from.Select(f => (int)f).ToArray()).Add("processing", OperationStatus.Processing).Add("canceled_op", OperationStatus.Canceled);
        if (await command.ExecuteNonQueryAsync(ct) == 0)
        {
            return await StatusAsync(connection, operationId, ct) is null ? ControlResult.NotFound : ControlResult.NotAllowed;
        }
        return null;
    }

    /// <summary>
    /// The move and its counters in one statement: the messages' update answers how many moved, and the operation's
    /// row takes them (and is reopened when asked) in a second data-modifying part of the same statement.
    /// </summary>
    public async Task<int> MoveMessagesAsync(long operationId, MessageStatus from, MessageStatus to, CancellationToken ct, bool onlyRetryable = false, bool reopen = false)
    {
        var fromColumn = PostgresCounters.Column(from);
        var toColumn = PostgresCounters.Column(to);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = Sql(connection, null, $"""
            WITH moved AS (
                UPDATE "Messages" SET "Status" = @to, "Retryable" = false, "UpdatedAt" = @now
                WHERE "OperationId" = @op AND "Status" = @from AND (NOT @only_retryable OR "Retryable")
                RETURNING 1),
            n AS (SELECT count(*) AS c FROM moved),
            counted AS (
                UPDATE "Operations" o SET "{fromColumn}" = o."{fromColumn}" - n.c, "{toColumn}" = o."{toColumn}" + n.c, "UpdatedAt" = @now,
                    "Status" = CASE WHEN @reopen AND o."Status" = @completed THEN @processing ELSE o."Status" END,
                    "CompletedAt" = CASE WHEN @reopen AND o."Status" = @completed THEN NULL ELSE o."CompletedAt" END
                FROM n WHERE o."Id" = @op AND n.c > 0)
            SELECT c FROM n
            """);
        command.Add("op", operationId).Add("from", from).Add("to", to).Add("now", UnixMs.Now(clock)).Add("only_retryable", onlyRetryable)
            .Add("reopen", reopen).Add("completed", OperationStatus.Completed).Add("processing", OperationStatus.Processing);
        return (int)(long)(await command.ExecuteScalarAsync(ct))!;
    }

    private static async Task<OperationStatus?> StatusAsync(NpgsqlConnection connection, long operationId, CancellationToken ct)
    {
        await using var command = Sql(connection, null, """SELECT "Status" FROM "Operations" WHERE "Id" = @op""");
        command.Add("op", operationId);
        return await command.ExecuteScalarAsync(ct) is int s ? (OperationStatus)s : null;
    }

    /// <summary>Takes one of the engine's advisory locks until the transaction ends.</summary>
    private static async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction tx, LockSpace space, long key, bool shared, CancellationToken ct)
    {
        await using var command = Sql(connection, tx, shared
            ? "SELECT pg_advisory_xact_lock_shared(@space, @key)"
            : "SELECT pg_advisory_xact_lock(@space, @key)");
        // The two-key form takes int keys: an ID past 2^31 shares its lock with another, which only makes one wait.
        command.Add("space", (int)space).Add("key", (int)(key & int.MaxValue));
        await command.ExecuteNonQueryAsync(ct);
    }

    private static NpgsqlCommand Sql(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql) => new(sql, connection, tx);
}

/// <summary>Typed parameters: an enum goes in as its number, an array as a PostgreSQL array, null as NULL.</summary>
internal static class NpgsqlParameters
{
    public static NpgsqlCommand Add<T>(this NpgsqlCommand command, string name, T value)
    {
        command.Parameters.Add(typeof(T).IsEnum
            ? new NpgsqlParameter<int>(name, Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture))
            : new NpgsqlParameter<T>(name, value!));
        return command;
    }
}
