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
/// <para>One rule keeps writers apart and out of deadlocks: a transaction that changes an operation's messages, claims
/// and counters locks the operation's row first (<c>FOR NO KEY UPDATE</c>, the lock its counters need anyway) and
/// holds it to the commit. Claims of one operation so take turns, and each sees the claimed ranges committed before it,
/// on one node or many; and a delivery report that finds its message in flight either waits for the batch writing it
/// or is kept before that batch looks for early reports (see <see cref="ApplyReportsAsync"/>).</para>
/// The other areas are beside it (<c>PostgresEngineStore.Creation.cs</c>, <c>.Reports.cs</c>, <c>.Simulator.cs</c>, <c>.Counters.cs</c>).
/// </summary>
public sealed partial class PostgresEngineStore(NpgsqlDataSource dataSource, TimeProvider clock) : IEngineStore
{
    /// <summary>The first key of the engine's transaction-scoped advisory locks (pg_advisory_xact_lock(space, key)).</summary>
    internal enum LockSpace
    {
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

    private const string LockOperationSql = """
        SELECT "Status" FROM "Operations" WHERE "Id" = @op FOR NO KEY UPDATE
        """;

    /// <summary>Another live claim overlapping the range is told to send it again when it ends; answers how many there were.</summary>
    private const string RequeueOverlappingSql = """
        WITH marked AS (
            UPDATE "ClaimedBatches" SET "Requeue" = true WHERE "OperationId" = @op AND "FromId" <= @to AND "ToId" >= @from
            RETURNING 1)
        SELECT count(*) FROM marked
        """;

    /// <summary>The database's clock, in Unix ms: leases are on it, so nodes whose clocks differ still agree.</summary>
    internal const string DbNow = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

    /// <summary>
    /// The range's QUEUED messages, locked for this claim; those another claimer holds right now are skipped, not waited
    /// for. The count of the range's QUEUED messages in the same snapshot tells whether any were skipped.
    /// </summary>
    private const string LockQueuedSql = """
        SELECT m."Id", m."Address", m."Channel", m."VariablesJson",
               (SELECT count(*) FROM "Messages" v WHERE v."Id" BETWEEN @from AND @to AND v."OperationId" = @op AND v."Status" = @queued),
               m."Variant"
        FROM "Messages" m
        WHERE m."Id" BETWEEN @from AND @to AND m."OperationId" = @op AND m."Status" = @queued
        ORDER BY m."Id"
        FOR UPDATE OF m SKIP LOCKED
        """;

    /// <summary>
    /// The claim's row, owned by the node under a lease on the database's clock, and its counters (QUEUED → SENDING),
    /// while the operation is processing; nothing when it is not (a pause or cancel came first).
    /// </summary>
    private const string InsertClaimSql = $"""
        WITH op AS (
            UPDATE "Operations" SET "Queued" = "Queued" - @count, "Sending" = "Sending" + @count, "UpdatedAt" = @now
            WHERE "Id" = @op AND "Status" = @processing
            RETURNING 1)
        INSERT INTO "ClaimedBatches" ("OperationId", "FromId", "ToId", "ClaimedAt", "Remaining", "Requeue", "NodeId", "LeaseUntil")
        SELECT @op, @from, @to, @now, @count, false, @node, {DbNow} + @lease FROM op
        RETURNING "Id"
        """;

    /// <summary>The operation's claimed ranges, each with its QUEUED messages (none when all are written).</summary>
    private const string InFlightClaimsSql = $"""
        SELECT c."Id", c."FromId", c."ClaimedAt", m."Id", m."Address", m."Channel", m."VariablesJson", m."Variant"
        FROM "ClaimedBatches" c
        LEFT JOIN "Messages" m ON m."Id" BETWEEN c."FromId" AND c."ToId" AND m."OperationId" = c."OperationId" AND m."Status" = @queued
        WHERE c."OperationId" = @op AND c."ClaimedAt" <= @before AND c."LeaseUntil" <= {DbNow}
        ORDER BY c."FromId", m."Id"
        """;

    /// <summary>Messages SENDING on their own row: written by a version before claimed ranges, settled as before.</summary>
    private const string LegacyInFlightSql = """
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
        WHERE m."Id" = u.id AND m."Status" IN (@queued, @sending)
        RETURNING m."Id"
        """;

    /// <summary>
    /// Counts written messages off their claims in one statement: a claim with nothing left ends (its row goes and is
    /// answered, with whether its range is to be sent again), the others count down.
    /// </summary>
    private const string CountDownClaimsSql = """
        WITH n AS (SELECT * FROM unnest(@claims, @counts) AS n(id, c)),
        ended AS (
            DELETE FROM "ClaimedBatches" b USING n WHERE b."Id" = n.id AND b."Remaining" <= n.c
            RETURNING b."Requeue", b."FromId", b."ToId"),
        counted AS (
            UPDATE "ClaimedBatches" b SET "Remaining" = b."Remaining" - n.c FROM n WHERE b."Id" = n.id AND b."Remaining" > n.c)
        SELECT "Requeue", "FromId", "ToId" FROM ended
        """;

    private const string TakeClaimSql = $"""
        DELETE FROM "ClaimedBatches" WHERE "Id" = @claim AND "OperationId" = @op AND "LeaseUntil" <= {DbNow}
        RETURNING "Remaining", "FromId", "ToId"
        """;

    /// <summary>Which of a flush's claims still exist: a claim another node settled after its lease ran out is not this batch's any more.</summary>
    private const string LiveClaimsSql = """
        SELECT "Id" FROM "ClaimedBatches" WHERE "Id" = ANY(@claims)
        """;

    /// <summary>The range's QUEUED messages of a canceled operation go to CANCELED.</summary>
    private const string CancelLeftInRangeSql = """
        WITH canceled AS (
            UPDATE "Messages" SET "Status" = @canceled, "UpdatedAt" = @now
            WHERE "Id" BETWEEN @from AND @to AND "OperationId" = @op AND "Status" = @queued
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
        await using (var queue = GroupSizedSql(connection, tx, QueueSql))
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
    /// Claims the range's QUEUED messages as one <see cref="ClaimedBatch"/> row, while the operation is processing and no
    /// other claim of the range is live. Claimers do not wait on each other: the range's QUEUED messages are locked
    /// <c>FOR UPDATE SKIP LOCKED</c>; a claimer that found some of them held by another claimer right now steps back
    /// and tries again a moment later (the other one may be claiming an overlapping range). Holding its messages, it
    /// looks for live claims overlapping the range in a new snapshot: any claimer that held one of these messages
    /// before has committed by now, so its claim is seen (never two claims of the same message). The claim's row and
    /// its counters go in last; the operation's row is locked only for that statement and the commit.
    /// </summary>
    public async Task<List<BatchMessage>> ClaimAsync(DbConnection reader, long operationId, long fromId, long toId, DateTimeOffset claimedAt, ClaimLease lease, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (await TryClaimAsync(operationId, fromId, toId, claimedAt, lease, ct) is { } work)
                {
                    return work;
                }
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.DeadlockDetected && attempt < 50)
            {
                // A cancel moving QUEUED messages locks the operation first and then the messages, a claim the other
                // way round: the claim waits for the operation's row only briefly (lock_timeout, well under the
                // server's deadlock check), gives way, and is tried again, so the cancel always goes through.
            }
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(20, 50 + Math.Min(attempt, 20) * 25)), ct);
        }
    }

    /// <summary>One try: the messages claimed (none when the range is claimed already or the operation is not processing), or null when another claimer held some of them.</summary>
    private async Task<List<BatchMessage>?> TryClaimAsync(long operationId, long fromId, long toId, DateTimeOffset claimedAt, ClaimLease lease, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (await StatusAsync(connection, operationId, ct) != OperationStatus.Processing)
        {
            return [];
        }
        var work = new List<BatchMessage>((int)Math.Min(toId - fromId + 1, 100_000));
        long visible = 0;
        await using (var select = Sql(connection, tx, LockQueuedSql))
        {
            select.Add("op", operationId).Add("from", fromId).Add("to", toId).Add("queued", MessageStatus.Queued);
            await using var rows = await select.ExecuteReaderAsync(ct);
            while (await rows.ReadAsync(ct))
            {
                work.Add(new BatchMessage(rows.GetInt64(0), rows.GetString(1), rows.GetString(2), rows.GetString(3)) { Variant = rows.IsDBNull(5) ? null : rows.GetInt32(5) });
                visible = rows.GetInt64(4);
            }
        }
        if (work.Count == 0)
        {
            // Nothing QUEUED left to take, or all of it held by another claimer now: look again only in that case.
            var any = await CountQueuedAsync(connection, tx, operationId, fromId, toId, ct);
            await tx.RollbackAsync(ct);
            return any > 0 ? null : [];
        }
        if (visible != work.Count)
        {
            await tx.RollbackAsync(ct);
            return null;
        }
        await using (var requeue = Sql(connection, tx, RequeueOverlappingSql))
        {
            requeue.Add("op", operationId).Add("from", fromId).Add("to", toId);
            // Another run of this range is in flight: that one sends the range again when it ends, in case this run was
            // enqueued for messages queued after its claim.
            if ((long)(await requeue.ExecuteScalarAsync(ct))! > 0)
            {
                await tx.CommitAsync(ct);
                return [];
            }
        }
        await using (var briefly = Sql(connection, tx, "SET LOCAL lock_timeout = '300ms'"))
        {
            await briefly.ExecuteNonQueryAsync(ct);
        }
        await using (var insert = Sql(connection, tx, InsertClaimSql))
        {
            insert.Add("op", operationId).Add("from", fromId).Add("to", toId).Add("now", claimedAt.ToUnixTimeMilliseconds())
                .Add("count", work.Count).Add("node", lease.NodeId).Add("lease", (long)lease.LeaseMs).Add("processing", OperationStatus.Processing);
            if (await insert.ExecuteScalarAsync(ct) is not long claimId)
            {
                await tx.RollbackAsync(ct);
                return []; // paused or canceled meanwhile
            }
            foreach (var p in work)
            {
                p.ClaimId = claimId;
            }
        }
        await tx.CommitAsync(ct);
        return work;
    }

    private static async Task<long> CountQueuedAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long operationId, long fromId, long toId, CancellationToken ct)
    {
        await using var count = Sql(connection, tx, """
            SELECT count(*) FROM "Messages" WHERE "Id" BETWEEN @from AND @to AND "OperationId" = @op AND "Status" = @queued
            """);
        count.Add("op", operationId).Add("from", fromId).Add("to", toId).Add("queued", MessageStatus.Queued);
        return (long)(await count.ExecuteScalarAsync(ct))!;
    }

    public async Task<List<InFlightClaim>> ReadInFlightAsync(DbConnection connection, long operationId, DateTimeOffset? claimedBefore, Func<long, bool>? held, CancellationToken ct)
    {
        var npgsql = (NpgsqlConnection)connection;
        var before = claimedBefore?.ToUnixTimeMilliseconds() ?? long.MaxValue;
        var inFlight = new List<InFlightClaim>();
        await using (var select = Sql(npgsql, null, InFlightClaimsSql))
        {
            // The range's QUEUED messages: the claimed ones not written yet, and any queued again into it since (a
            // retry), which the provider does not have and which stay QUEUED; the counters go by the claim's Remaining.
            select.Add("op", operationId).Add("before", before).Add("queued", MessageStatus.Queued);
            await using var reader = await select.ExecuteReaderAsync(ct);
            InFlightClaim? current = null;
            while (await reader.ReadAsync(ct))
            {
                var claimId = reader.GetInt64(0);
                if (current?.Id != claimId)
                {
                    current = held?.Invoke(reader.GetInt64(1)) == true ? null : new InFlightClaim(claimId, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), []);
                    if (current is null)
                    {
                        continue;
                    }
                    inFlight.Add(current);
                }
                if (!reader.IsDBNull(3))
                {
                    current.Messages.Add(new BatchMessage(reader.GetInt64(3), reader.GetString(4), reader.GetString(5), reader.GetString(6)) { ClaimId = claimId, Variant = reader.IsDBNull(7) ? null : reader.GetInt32(7) });
                }
            }
        }
        await using (var select = Sql(npgsql, null, LegacyInFlightSql))
        {
            select.Add("op", operationId).Add("before", before).Add("sending", MessageStatus.Sending);
            await using var reader = await select.ExecuteReaderAsync(ct);
            inFlight.AddRange(await InFlightClaim.ReadSendingAsync(reader, held, ct));
        }
        return inFlight;
    }

    public async Task<RecordedOutcomes> RecordAsync(long operationId, List<BatchMessage> settled, long now, CancellationToken ct)
    {
        var written = new HashSet<long>(settled.Count);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // The operation's row first (see the class); as it is now, so a cancel cannot slip in before the commit.
        var operationCanceled = await LockOperationAsync(connection, tx, operationId, ct) == OperationStatus.Canceled;
        settled = await OnlyLiveClaimsAsync(connection, tx, settled, ct);
        if (operationCanceled)
        {
            // Canceled while these were claimed: what never went out is CANCELED, not QUEUED again.
            foreach (var p in settled.Where(p => p.Final == MessageStatus.Queued))
            {
                p.Final = MessageStatus.Canceled;
            }
        }
        await WriteOutcomesAsync(connection, tx, settled, now, written, ct);

        var delta = new StatsDelta();
        var requeue = await CountDownClaimsAsync(connection, tx, operationId, operationCanceled, settled, written, delta, now, ct);
        var unsubscribed = delta.CountSettled(settled, written);
        if (unsubscribed.Count > 0)
        {
            await using var suppress = Sql(connection, tx, SuppressSql);
            suppress.Add("addresses", unsubscribed.ToArray()).Add("reason", "The provider reported the recipient unsubscribed.").Add("at", clock.GetUtcNow());
            await suppress.ExecuteNonQueryAsync(ct);
        }
        await PostgresCounters.ApplyAsync(connection, tx, new Dictionary<long, StatsDelta> { [operationId] = delta }, now, ct);
        // After the counters: an early report moves a message on from the SENT just counted.
        await ApplyEarlyReportsAsync(connection, tx, written, now, ct);
        var completed = await CompleteIfDoneAsync(connection, tx, operationId, now, ct);
        await tx.CommitAsync(ct);
        return new RecordedOutcomes(written, completed, requeue);
    }

    /// <summary>
    /// Counts the written messages off their claims; a claim with nothing left ends, and after a cancel what its range
    /// still holds QUEUED (held back in an earlier flush) is CANCELED with it. Answers the ended ranges to send again.
    /// </summary>
    private static async Task<List<(long FromId, long ToId)>> CountDownClaimsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long operationId, bool operationCanceled, List<BatchMessage> settled, HashSet<long> written, StatsDelta delta, long now, CancellationToken ct)
    {
        var perClaim = settled.Where(p => p.ClaimId != 0 && written.Contains(p.Id)).GroupBy(p => p.ClaimId).OrderBy(g => g.Key).ToList();
        var requeue = new List<(long FromId, long ToId)>();
        if (perClaim.Count == 0)
        {
            return requeue;
        }
        var ended = new List<(bool Again, long From, long To)>();
        await using (var countDown = Sql(connection, tx, CountDownClaimsSql))
        {
            countDown.Add("claims", perClaim.Select(g => g.Key).ToArray()).Add("counts", perClaim.Select(g => g.Count()).ToArray());
            await using var reader = await countDown.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                ended.Add((reader.GetBoolean(0), reader.GetInt64(1), reader.GetInt64(2)));
            }
        }
        foreach (var (again, from, to) in ended)
        {
            if (operationCanceled && await CancelLeftInRangeAsync(connection, tx, operationId, from, to, now, ct) is var canceled and > 0)
            {
                delta.Move(MessageStatus.Queued, MessageStatus.Canceled, canceled);
            }
            else if (again)
            {
                requeue.Add((from, to));
            }
        }
        return requeue;
    }

    private static async Task<long> CancelLeftInRangeAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long operationId, long from, long to, long now, CancellationToken ct)
    {
        await using var cancel = Sql(connection, tx, CancelLeftInRangeSql);
        cancel.Add("op", operationId).Add("from", from).Add("to", to).Add("now", now).Add("canceled", MessageStatus.Canceled).Add("queued", MessageStatus.Queued);
        return (long)(await cancel.ExecuteScalarAsync(ct))!;
    }

    public async Task<RecordedOutcomes> SettleClaimAsync(long operationId, long claimId, List<BatchMessage> received, long now, CancellationToken ct)
    {
        var written = new HashSet<long>(received.Count);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var operationCanceled = await LockOperationAsync(connection, tx, operationId, ct) == OperationStatus.Canceled;
        long remaining, from, to;
        await using (var take = Sql(connection, tx, TakeClaimSql))
        {
            take.Add("claim", claimId).Add("op", operationId);
            await using var reader = await take.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return new RecordedOutcomes(written, false, []); // settled by someone else meanwhile
            }
            remaining = reader.GetInt32(0);
            from = reader.GetInt64(1);
            to = reader.GetInt64(2);
        }
        await WriteOutcomesAsync(connection, tx, received, now, written, ct);
        // The claim's Remaining were counted SENDING: those the provider has are SENT, the rest QUEUED again (they
        // are QUEUED already), or CANCELED with whatever else the range holds QUEUED if the operation was canceled.
        var delta = new StatsDelta();
        delta.Move(MessageStatus.Sending, MessageStatus.Queued, remaining);
        foreach (var p in received.Where(p => written.Contains(p.Id)))
        {
            delta.Move(MessageStatus.Queued, MessageStatus.Sent);
            delta.Attempts += p.Attempts;
        }
        if (operationCanceled)
        {
            delta.Move(MessageStatus.Queued, MessageStatus.Canceled, await CancelLeftInRangeAsync(connection, tx, operationId, from, to, now, ct));
        }
        await PostgresCounters.ApplyAsync(connection, tx, new Dictionary<long, StatsDelta> { [operationId] = delta }, now, ct);
        await ApplyEarlyReportsAsync(connection, tx, written, now, ct);
        var completed = await CompleteIfDoneAsync(connection, tx, operationId, now, ct);
        await tx.CommitAsync(ct);
        return new RecordedOutcomes(written, completed, []);
    }

    /// <summary>
    /// Leaves out the messages whose claim is gone: its lease ran out (the node was cut off from the database) and another
    /// node settled it with the provider, which decided them. The operation's row is locked, so no settlement is under way.
    /// </summary>
    private static async Task<List<BatchMessage>> OnlyLiveClaimsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<BatchMessage> settled, CancellationToken ct)
    {
        var claims = settled.Where(p => p.ClaimId != 0).Select(p => p.ClaimId).Distinct().ToArray();
        if (claims.Length == 0)
        {
            return settled;
        }
        var live = new HashSet<long>();
        await using (var select = Sql(connection, tx, LiveClaimsSql))
        {
            select.Add("claims", claims);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                live.Add(reader.GetInt64(0));
            }
        }
        return live.Count == claims.Length ? settled : settled.Where(p => p.ClaimId == 0 || live.Contains(p.ClaimId)).ToList();
    }

    /// <summary>Locks the operation's row for this transaction and answers its status (null: no such operation).</summary>
    private static async Task<OperationStatus?> LockOperationAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long operationId, CancellationToken ct)
    {
        await using var command = Sql(connection, tx, LockOperationSql);
        command.Add("op", operationId);
        return await command.ExecuteScalarAsync(ct) is int s ? (OperationStatus)s : null;
    }

    private static async Task<bool> CompleteIfDoneAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, long operationId, long now, CancellationToken ct)
    {
        await using var complete = Sql(connection, tx, CompleteIfDoneSql);
        complete.Add("op", operationId).Add("now", now).Add("completed", OperationStatus.Completed).Add("processing", OperationStatus.Processing);
        return await complete.ExecuteNonQueryAsync(ct) > 0;
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
        return await CompleteIfDoneAsync(connection, null, operationId, UnixMs.Now(clock), ct);
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
        // A QUEUED message inside a claimed range is in flight: its batch (or the settlement) decides it.
        var notClaimed = from == MessageStatus.Queued
            ? """AND NOT EXISTS (SELECT 1 FROM "ClaimedBatches" c WHERE c."OperationId" = @op AND "Messages"."Id" BETWEEN c."FromId" AND c."ToId")"""
            : "";
        var fromColumn = StatsDelta.Column(from);
        var toColumn = StatsDelta.Column(to);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await LockOperationAsync(connection, tx, operationId, ct);
        await using var command = Sql(connection, tx, $"""
            WITH moved AS (
                UPDATE "Messages" SET "Status" = @to, "Retryable" = false, "UpdatedAt" = @now
                WHERE "OperationId" = @op AND "Status" = @from AND (NOT @only_retryable OR "Retryable") {notClaimed}
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
        var moved = (int)(long)(await command.ExecuteScalarAsync(ct))!;
        await tx.CommitAsync(ct);
        return moved;
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

    /// <summary>
    /// A statement over a whole group or operation (a million rows): no command timeout. Npgsql's default of 30 s cut
    /// a 1M-row import's move on a busy server, and the job started over; such a statement is stopped through its
    /// cancellation token instead (a stop, a cancel), as on SQLite.
    /// </summary>
    internal static NpgsqlCommand GroupSizedSql(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql) => new(sql, connection, tx) { CommandTimeout = 0 };
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
