using System.Buffers;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Data;
using BulkCampaigns.Operations;
using Microsoft.Data.Sqlite;
using OperationStatus = BulkCampaigns.Operations.OperationStatus;

namespace BulkCampaigns.Dispatch.Sqlite;

/// <summary>
/// The engine's hot statements on SQLite. Writes go through <see cref="WriteGate"/> (one writer, one long-lived
/// connection); reads use the batch's own connection. Status values come from the enums, written into the SQL text
/// as constants (not parameters) so the statements, and their plans, are the ones they always were.
/// This file is long on purpose: it is the one place a reader (or a PostgreSQL port) finds a batch's SQL; the other
/// areas are beside it (<c>SqliteEngineStore.Creation.cs</c>, <c>.Reports.cs</c>, <c>.Simulator.cs</c>, <c>.Counters.cs</c>).
/// </summary>
public sealed partial class SqliteEngineStore(DatabaseConnection database, WriteGate gate, TimeProvider clock) : IEngineStore
{
    private const int Scheduled = (int)MessageStatus.Scheduled;
    private const int Queued = (int)MessageStatus.Queued;
    private const int Sending = (int)MessageStatus.Sending;
    private const int Sent = (int)MessageStatus.Sent;
    private const int Processing = (int)OperationStatus.Processing;
    private const int OperationScheduled = (int)OperationStatus.Scheduled;
    private const int Completed = (int)OperationStatus.Completed;
    private const int Canceled = (int)OperationStatus.Canceled;

    private static readonly string StartSql = $"UPDATE Operations SET Status = {Processing}, StartedAt = COALESCE(StartedAt, $now), UpdatedAt = $now WHERE Id = $op AND Status = {OperationScheduled}";
    private static readonly string QueueSql = $"UPDATE Messages SET Status = {Queued}, UpdatedAt = $now WHERE OperationId = $op AND Status = {Scheduled}";

    /// <summary>A range is claimed while the operation is processing and no live claim overlaps it.</summary>
    private static readonly string ClaimableSql = $"""
        SELECT EXISTS (SELECT 1 FROM Operations o WHERE o.Id = $op AND o.Status = {Processing})
           AND NOT EXISTS (SELECT 1 FROM ClaimedBatches c WHERE c.OperationId = $op AND c.FromId <= $to AND c.ToId >= $from)
        """;
    private const string RequeueOverlappingSql = "UPDATE ClaimedBatches SET Requeue = 1 WHERE OperationId = $op AND FromId <= $to AND ToId >= $from";

    /// <summary>"+OperationId" keeps SQLite on the rowid range, off the (OperationId, Address) index.</summary>
    private static readonly string ClaimedIdsSql = $"SELECT Id FROM Messages WHERE Id BETWEEN $from AND $to AND +OperationId = $op AND Status = {Queued}";
    private const string InsertClaimSql = "INSERT INTO ClaimedBatches (OperationId, FromId, ToId, ClaimedAt, Remaining, Requeue, NodeId, LeaseUntil) VALUES ($op, $from, $to, $now, $count, 0, $node, $lease_until) RETURNING Id";
    private static readonly string QueuedOnly = $"Status = {Queued}";

    /// <summary>Messages SENDING on their own row: written by a version before claimed ranges, settled as before.</summary>
    private static readonly string LegacyInFlightSql = $"SELECT Id, Address, Channel, VariablesJson, COALESCE(ClaimedAt, UpdatedAt) FROM Messages WHERE OperationId = $op AND Status = {Sending} AND COALESCE(ClaimedAt, UpdatedAt) <= $before";
    private const string InFlightClaimsSql = "SELECT Id, FromId, ToId, ClaimedAt FROM ClaimedBatches WHERE OperationId = $op AND ClaimedAt <= $before AND LeaseUntil <= $now ORDER BY FromId";
    private static readonly string WritePlainSql = $"""
        UPDATE Messages SET Status = {Sent}, Body = j.b, Segments = j.g, ProviderMessageId = j.p, SentAt = j.t, UpdatedAt = $now,
            Attempts = Attempts + 1, ErrorCode = NULL, ErrorMessage = NULL, Retryable = 0
        FROM (SELECT value ->> 0 AS id, value ->> 1 AS b, value ->> 2 AS g, value ->> 3 AS p, value ->> 4 AS t FROM jsonb_each($rows)) AS j
        WHERE Messages.Id = j.id AND Messages.Status IN ({Queued}, {Sending})
        """;
    private static readonly string PlainWrittenSql = $"""
        SELECT m.Id FROM jsonb_each($rows) j JOIN Messages m ON m.Id = j.value ->> 0
        WHERE m.Status = {Sent} AND m.UpdatedAt = $now AND m.ProviderMessageId IS j.value ->> 3
        """;
    private static readonly string WriteOtherSql = $"""
        UPDATE Messages SET Status = j.s, Body = j.b, Segments = j.g, ProviderMessageId = j.p, SentAt = j.t, UpdatedAt = $now,
            Attempts = Attempts + j.a, ErrorCode = j.c, ErrorMessage = j.m, Retryable = j.r,
            ClaimedAt = CASE WHEN j.s = {Queued} THEN NULL ELSE ClaimedAt END
        FROM (SELECT value ->> 0 AS id, value ->> 1 AS s, value ->> 2 AS b, value ->> 3 AS g, value ->> 4 AS p, value ->> 5 AS t,
                     value ->> 6 AS a, value ->> 7 AS c, value ->> 8 AS m, value ->> 9 AS r FROM jsonb_each($rows)) AS j
        WHERE Messages.Id = j.id AND Messages.Status IN ({Queued}, {Sending})
        RETURNING Messages.Id
        """;
    private const string SuppressSql = "INSERT INTO Suppressions (Address, Reason, Source, CreatedAt) VALUES ($address, $reason, 'provider', $at) ON CONFLICT(Address) DO NOTHING";

    private static readonly string CompleteIfDoneSql = $"""
        UPDATE Operations SET Status = {Completed}, CompletedAt = $now, UpdatedAt = $now
        WHERE Id = $op AND Status = {Processing} AND Scheduled = 0 AND Queued = 0 AND Sending = 0
        """;

    public async Task<DbConnection> OpenReaderAsync(CancellationToken ct) => await database.OpenAsync(ct);

    public async Task<bool> StartAsync(long operationId, long now, CancellationToken ct)
    {
        using var writer = await gate.EnterAsync(ct);
        var connection = writer.Connection;
        await using var tx = connection.BeginTransaction();
        await using var start = connection.CreateCommand();
        start.Transaction = tx;
        start.CommandText = StartSql;
        start.Parameters.AddWithValue("$op", operationId);
        start.Parameters.AddWithValue("$now", now);
        if (await start.ExecuteNonQueryAsync(ct) == 0)
        {
            return false;
        }
        await using var queue = connection.CreateCommand();
        queue.Transaction = tx;
        queue.CommandText = QueueSql;
        queue.Parameters.AddWithValue("$op", operationId);
        queue.Parameters.AddWithValue("$now", now);
        var moved = await queue.ExecuteNonQueryAsync(ct);
        var delta = new StatsDelta();
        delta.Move(MessageStatus.Scheduled, MessageStatus.Queued, moved);
        await delta.ApplyAsync(connection, tx, operationId, now, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<List<InFlightClaim>> ReadInFlightAsync(DbConnection connection, long operationId, DateTimeOffset? claimedBefore, Func<long, bool>? held, CancellationToken ct)
    {
        var sqlite = (SqliteConnection)connection;
        var before = claimedBefore?.ToUnixTimeMilliseconds() ?? long.MaxValue;
        var claims = new List<(long Id, long From, long To, long At)>();
        await using (var select = sqlite.CreateCommand())
        {
            select.CommandText = InFlightClaimsSql;
            select.Parameters.AddWithValue("$op", operationId);
            select.Parameters.AddWithValue("$before", before);
            select.Parameters.AddWithValue("$now", UnixMs.Now(clock));
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                if (held?.Invoke(reader.GetInt64(1)) != true)
                {
                    claims.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
                }
            }
        }
        var inFlight = new List<InFlightClaim>();
        foreach (var (id, from, to, at) in claims)
        {
            // The range's QUEUED messages: the claimed ones not written yet, and any queued again into it since (a
            // retry), which the provider does not have and which stay QUEUED; the counters go by the claim's Remaining.
            var messages = await ReadMessagesAsync(sqlite, operationId, from, to, QueuedOnly, ct);
            foreach (var m in messages)
            {
                m.ClaimId = id;
            }
            inFlight.Add(new InFlightClaim(id, DateTimeOffset.FromUnixTimeMilliseconds(at), messages));
        }
        await using (var select = sqlite.CreateCommand())
        {
            select.CommandText = LegacyInFlightSql;
            select.Parameters.AddWithValue("$op", operationId);
            select.Parameters.AddWithValue("$before", before);
            await using var reader = await select.ExecuteReaderAsync(ct);
            inFlight.AddRange(await InFlightClaim.ReadSendingAsync(reader, held, ct));
        }
        return inFlight;
    }

    public async Task<BatchOperation?> LoadOperationAsync(DbConnection connection, long operationId, CancellationToken ct)
    {
        await using var command = ((SqliteConnection)connection).CreateCommand();
        command.CommandText = """
            SELECT o.Status, o.SenderId, o.FromAddress, o.FromChannel, o.ContentJson, COALESCE(s.Mps, 1), o.Mps, o.QuietStart, o.QuietEnd, o.QuietTimeZone
            FROM Operations o LEFT JOIN Senders s ON s.Id = o.SenderId WHERE o.Id = $op
            """;
        command.Parameters.AddWithValue("$op", operationId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        return new BatchOperation(operationId, (OperationStatus)reader.GetInt32(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5))
        {
            OperationMps = reader.IsDBNull(6) ? null : reader.GetInt32(6),
            Quiet = reader.IsDBNull(7) || reader.IsDBNull(8) || reader.IsDBNull(9) ? null
                : new QuietHours(TimeOnly.Parse(reader.GetString(7), CultureInfo.InvariantCulture), TimeOnly.Parse(reader.GetString(8), CultureInfo.InvariantCulture), reader.GetString(9)),
        };
    }

    private static void WriteOrNull(Utf8JsonWriter json, string? value)
    {
        if (value is null)
        {
            json.WriteNullValue();
        }
        else
        {
            json.WriteStringValue(value);
        }
    }

    /// <summary>
    /// Claims the batch's QUEUED messages by writing one <see cref="ClaimedBatch"/> row for the range: the messages
    /// themselves are not written until their outcome is. Their addresses and variables are read first, on the job's
    /// own connection, so the writer everyone waits for only reads their IDs (which of them are QUEUED now) and adds a row.
    /// "+OperationId" keeps SQLite on the rowid range: through the (OperationId, Address) index it would read every
    /// message of the operation for each batch, and a 1M operation took minutes instead of seconds.
    /// </summary>
    public async Task<List<BatchMessage>> ClaimAsync(DbConnection reader, long operationId, long fromId, long toId, DateTimeOffset claimedAt, ClaimLease lease, CancellationToken ct)
    {
        var queued = await ReadMessagesAsync((SqliteConnection)reader, operationId, fromId, toId, QueuedOnly, ct);
        if (queued.Count == 0)
        {
            return [];
        }
        var claimedIds = new List<long>(queued.Count);
        var now = claimedAt.ToUnixTimeMilliseconds();
        long claimId = 0;
        using (var writer = await gate.EnterAsync(ct))
        {
            var connection = writer.Connection;
            await using var tx = connection.BeginTransaction();
            using (var step = WriterTrace.Step("claim.range"))
            {
                var claimable = Prepared(connection, tx, ClaimableSql, RangeParameters);
                claimable.Parameters[0].Value = operationId;
                claimable.Parameters[1].Value = fromId;
                claimable.Parameters[2].Value = toId;
                if ((long)(await claimable.ExecuteScalarAsync(ct))! == 0)
                {
                    // Another run of this range is in flight (or the operation stopped): that one sends the range
                    // again when it ends, in case this run was enqueued for messages queued after its claim.
                    var requeue = Prepared(connection, tx, RequeueOverlappingSql, RangeParameters);
                    requeue.Parameters[0].Value = operationId;
                    requeue.Parameters[1].Value = fromId;
                    requeue.Parameters[2].Value = toId;
                    await requeue.ExecuteNonQueryAsync(ct);
                    await tx.CommitAsync(ct);
                    return [];
                }
                var ids = Prepared(connection, tx, ClaimedIdsSql, RangeParameters);
                ids.Parameters[0].Value = operationId;
                ids.Parameters[1].Value = fromId;
                ids.Parameters[2].Value = toId;
                await using (var rows = await ids.ExecuteReaderAsync(ct))
                {
                    while (await rows.ReadAsync(ct))
                    {
                        claimedIds.Add(rows.GetInt64(0));
                    }
                }
                step.Count(claimedIds.Count);
                if (claimedIds.Count == 0)
                {
                    await tx.CommitAsync(ct);
                    return [];
                }
                var insert = Prepared(connection, tx, InsertClaimSql, [.. RangeParameters, "$now", "$count", "$node", "$lease_until"]);
                insert.Parameters[0].Value = operationId;
                insert.Parameters[1].Value = fromId;
                insert.Parameters[2].Value = toId;
                insert.Parameters[3].Value = now;
                insert.Parameters[4].Value = claimedIds.Count;
                insert.Parameters[5].Value = lease.NodeId;
                insert.Parameters[6].Value = UnixMs.Now(clock) + lease.LeaseMs;
                claimId = (long)(await insert.ExecuteScalarAsync(ct))!;
            }
            var delta = new StatsDelta();
            delta.Move(MessageStatus.Queued, MessageStatus.Sending, claimedIds.Count);
            using (WriterTrace.Step("claim.counters"))
            {
                await delta.ApplyAsync(connection, tx, operationId, now, ct);
            }
            using (WriterTrace.Step("claim.commit"))
            {
                await tx.CommitAsync(ct);
            }
        }
        var claimed = new HashSet<long>(claimedIds);
        var work = queued.Where(p => claimed.Contains(p.Id)).ToList();
        if (work.Count < claimed.Count)
        {
            // Queued after the read (a retry, say): read what was claimed.
            var known = work.Select(p => p.Id).ToHashSet();
            var late = await ReadMessagesAsync((SqliteConnection)reader, operationId, fromId, toId, QueuedOnly, ct);
            work.AddRange(late.Where(p => claimed.Contains(p.Id) && !known.Contains(p.Id)));
            work.Sort((a, b) => a.Id.CompareTo(b.Id));
        }
        foreach (var p in work)
        {
            p.ClaimId = claimId;
        }
        return work;
    }

    private static readonly string[] RangeParameters = ["$op", "$from", "$to"];

    /// <summary>
    /// The writer's statements are prepared once on its long-lived connection and kept (keyed by their text): a statement
    /// prepared again for every batch was a measurable share of a claim.
    /// </summary>
    private readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);
    private SqliteConnection? _preparedOn;

    private SqliteCommand Prepared(SqliteConnection connection, SqliteTransaction tx, string sql, string[] parameters)
    {
        if (!ReferenceEquals(_preparedOn, connection))
        {
            foreach (var old in _prepared.Values)
            {
                old.Dispose();
            }
            _prepared.Clear();
            _preparedOn = connection;
        }
        if (!_prepared.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }
            _prepared[sql] = command;
        }
        command.Transaction = tx;
        return command;
    }

    private static async Task<List<BatchMessage>> ReadMessagesAsync(SqliteConnection connection, long operationId, long fromId, long toId, string where, CancellationToken ct)
    {
        var messages = new List<BatchMessage>((int)Math.Min(toId - fromId + 1, 100_000));
        await using var select = connection.CreateCommand();
        select.CommandText = $"SELECT Id, Address, Channel, VariablesJson, Variant FROM Messages WHERE Id BETWEEN $from AND $to AND +OperationId = $op AND {where} ORDER BY Id";
        select.Parameters.AddWithValue("$from", fromId);
        select.Parameters.AddWithValue("$to", toId);
        select.Parameters.AddWithValue("$op", operationId);
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            messages.Add(new BatchMessage(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)) { Variant = reader.IsDBNull(4) ? null : reader.GetInt32(4) });
        }
        return messages;
    }

    public async Task<RecordedOutcomes> RecordAsync(long operationId, List<BatchMessage> settled, long now, CancellationToken ct)
    {
        // Built before waiting for the writer, which everyone waits for.
        var plain = PlainSends(settled);
        bool completed;
        List<(long FromId, long ToId)> requeue;
        var written = new HashSet<long>(settled.Count);
        using (var writer = await gate.EnterAsync(ct))
        {
            var connection = writer.Connection;
            await using var tx = connection.BeginTransaction();
            // Canceled while these were claimed: what never went out is CANCELED, not QUEUED again.
            var operationCanceled = await IsCanceledAsync(connection, tx, operationId, ct);
            if (operationCanceled)
            {
                foreach (var p in settled.Where(p => p.Final == MessageStatus.Queued))
                {
                    p.Final = MessageStatus.Canceled;
                }
            }
            using (var step = WriterTrace.Step("record.update"))
            {
                await WriteOutcomesAsync(connection, tx, plain, settled, now, written, ct);
                step.Count(written.Count);
            }
            var delta = new StatsDelta();
            requeue = [];
            using (WriterTrace.Step("record.claims"))
            {
                await CountDownClaimsAsync(connection, tx, operationId, operationCanceled, settled, written, delta, requeue, now, ct);
            }
            var unsubscribed = delta.CountSettled(settled, written);
            if (unsubscribed.Count > 0)
            {
                await using var suppress = connection.CreateCommand();
                suppress.Transaction = tx;
                suppress.CommandText = SuppressSql;
                var address = suppress.Parameters.Add("$address", SqliteType.Text);
                suppress.Parameters.AddWithValue("$reason", "The provider reported the recipient unsubscribed.");
                suppress.Parameters.AddWithValue("$at", clock.GetUtcNow());
                foreach (var a in unsubscribed)
                {
                    address.Value = a;
                    await suppress.ExecuteNonQueryAsync(ct);
                }
            }
            using (WriterTrace.Step("record.counters"))
            {
                await delta.ApplyAsync(connection, tx, operationId, now, ct);
            }
            // After the counters: an early report moves a message on from the SENT just counted.
            using (WriterTrace.Step("record.early"))
            {
                await ApplyEarlyReportsAsync(connection, tx, written, ct);
            }
            var complete = Prepared(connection, tx, CompleteIfDoneSql, ["$op", "$now"]);
            complete.Parameters[0].Value = operationId;
            complete.Parameters[1].Value = now;
            using (WriterTrace.Step("record.complete"))
            {
                completed = await complete.ExecuteNonQueryAsync(ct) > 0;
            }
            // The JSON of a batch's rows is not kept alive by the prepared statement until the next batch.
            if (_prepared.TryGetValue(WritePlainSql, out var hot))
            {
                hot.Parameters[1].Value = DBNull.Value;
            }
            using (WriterTrace.Step("record.commit"))
            {
                await tx.CommitAsync(ct);
            }
        }
        return new RecordedOutcomes(written, completed, requeue);
    }

    private const string EndClaimSql = "DELETE FROM ClaimedBatches WHERE Id = $claim AND Remaining <= $n RETURNING Requeue, FromId, ToId";
    private const string CountDownClaimSql = "UPDATE ClaimedBatches SET Remaining = Remaining - $n WHERE Id = $claim";
    private const string TakeClaimSql = "DELETE FROM ClaimedBatches WHERE Id = $claim AND OperationId = $op AND LeaseUntil <= $now RETURNING Remaining, FromId, ToId";
    private static readonly string CancelLeftInRangeSql = $"UPDATE Messages SET Status = {(int)MessageStatus.Canceled}, UpdatedAt = $now WHERE Id BETWEEN $from AND $to AND +OperationId = $op AND Status = {Queued}";

    /// <summary>
    /// Counts the written messages off their claims; a claim with nothing left ends (its row goes), and after a cancel
    /// what its range still holds QUEUED (held back in an earlier flush) is CANCELED with it.
    /// </summary>
    private async Task CountDownClaimsAsync(SqliteConnection connection, SqliteTransaction tx, long operationId, bool operationCanceled, List<BatchMessage> settled, HashSet<long> written, StatsDelta delta, List<(long FromId, long ToId)> requeue, long now, CancellationToken ct)
    {
        Dictionary<long, int>? perClaim = null;
        foreach (var p in settled)
        {
            if (p.ClaimId != 0 && written.Contains(p.Id))
            {
                perClaim ??= [];
                perClaim[p.ClaimId] = perClaim.GetValueOrDefault(p.ClaimId) + 1;
            }
        }
        if (perClaim is null)
        {
            return;
        }
        // Nearly always a batch's outcomes are written at once: the claim ends in one statement.
        var end = Prepared(connection, tx, EndClaimSql, ["$n", "$claim"]);
        foreach (var (claim, n) in perClaim)
        {
            end.Parameters[0].Value = n;
            end.Parameters[1].Value = claim;
            bool again = false, ended = false;
            long from = 0, to = 0;
            await using (var reader = await end.ExecuteReaderAsync(ct))
            {
                if (await reader.ReadAsync(ct))
                {
                    ended = true;
                    again = reader.GetBoolean(0);
                    from = reader.GetInt64(1);
                    to = reader.GetInt64(2);
                }
            }
            if (!ended)
            {
                var countDown = Prepared(connection, tx, CountDownClaimSql, ["$n", "$claim"]);
                countDown.Parameters[0].Value = n;
                countDown.Parameters[1].Value = claim;
                await countDown.ExecuteNonQueryAsync(ct);
                continue;
            }
            if (operationCanceled && await CancelLeftInRangeAsync(connection, tx, operationId, from, to, now, ct) is var canceled and > 0)
            {
                delta.Move(MessageStatus.Queued, MessageStatus.Canceled, canceled);
            }
            else if (again)
            {
                requeue.Add((from, to));
            }
        }
    }

    private async Task<bool> IsCanceledAsync(SqliteConnection connection, SqliteTransaction tx, long operationId, CancellationToken ct)
    {
        var status = Prepared(connection, tx, "SELECT Status FROM Operations WHERE Id = $op", ["$op"]);
        status.Parameters[0].Value = operationId;
        return await status.ExecuteScalarAsync(ct) is long s && (OperationStatus)s == OperationStatus.Canceled;
    }

    /// <summary>Moves the range's QUEUED messages (of a canceled operation) to CANCELED; answers how many.</summary>
    private static async Task<int> CancelLeftInRangeAsync(SqliteConnection connection, SqliteTransaction tx, long operationId, long from, long to, long now, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = CancelLeftInRangeSql;
        command.Parameters.AddWithValue("$op", operationId);
        command.Parameters.AddWithValue("$from", from);
        command.Parameters.AddWithValue("$to", to);
        command.Parameters.AddWithValue("$now", now);
        return await command.ExecuteNonQueryAsync(ct);
    }

    public async Task<RecordedOutcomes> SettleClaimAsync(long operationId, long claimId, List<BatchMessage> received, long now, CancellationToken ct)
    {
        var plain = PlainSends(received);
        var written = new HashSet<long>(received.Count);
        bool completed;
        using (var writer = await gate.EnterAsync(ct))
        {
            var connection = writer.Connection;
            await using var tx = connection.BeginTransaction();
            long remaining, from, to;
            await using (var take = connection.CreateCommand())
            {
                take.Transaction = tx;
                take.CommandText = TakeClaimSql;
                take.Parameters.AddWithValue("$claim", claimId);
                take.Parameters.AddWithValue("$op", operationId);
                take.Parameters.AddWithValue("$now", UnixMs.Now(clock));
                await using var reader = await take.ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct))
                {
                    return new RecordedOutcomes(written, false, []); // settled by someone else meanwhile, or its node renewed it
                }
                remaining = reader.GetInt64(0);
                from = reader.GetInt64(1);
                to = reader.GetInt64(2);
            }
            await WriteOutcomesAsync(connection, tx, plain, received, now, written, ct);
            // The claim's Remaining were counted SENDING: those the provider has are SENT, the rest QUEUED again (they
            // are QUEUED already), or CANCELED with whatever else the range holds QUEUED if the operation was canceled.
            var delta = new StatsDelta();
            delta.Move(MessageStatus.Sending, MessageStatus.Queued, remaining);
            foreach (var p in received.Where(p => written.Contains(p.Id)))
            {
                delta.Move(MessageStatus.Queued, MessageStatus.Sent);
                delta.Attempts += p.Attempts;
            }
            var canceled = await IsCanceledAsync(connection, tx, operationId, ct) ? await CancelLeftInRangeAsync(connection, tx, operationId, from, to, now, ct) : 0;
            delta.Move(MessageStatus.Queued, MessageStatus.Canceled, canceled);
            await delta.ApplyAsync(connection, tx, operationId, now, ct);
            await ApplyEarlyReportsAsync(connection, tx, written, ct);
            await using var complete = connection.CreateCommand();
            complete.Transaction = tx;
            complete.CommandText = CompleteIfDoneSql;
            complete.Parameters.AddWithValue("$op", operationId);
            complete.Parameters.AddWithValue("$now", now);
            completed = await complete.ExecuteNonQueryAsync(ct) > 0;
            await tx.CommitAsync(ct);
        }
        return new RecordedOutcomes(written, completed, []);
    }

    /// <summary>
    /// Plain first-time sends (nearly all of them) are written by a narrower statement than other outcomes:
    /// every field pulled out of the JSON per row costs, and a million add up.
    /// </summary>
    private static bool IsPlain(BatchMessage p) => p.Final == MessageStatus.Sent && p.Attempts == 1 && p.Code is null && p.Message is null && p.SentAt is not null;

    private sealed record PlainRows(string Json, List<long> Ids);

    private static PlainRows? PlainSends(List<BatchMessage> settled)
    {
        var plain = settled.Where(IsPlain).ToList();
        return plain.Count == 0 ? null : new PlainRows(JsonRows(plain, (json, p) =>
        {
            json.WriteNumberValue(p.Id);
            json.WriteStringValue(p.Body);
            json.WriteNumberValue(p.Segments);
            WriteOrNull(json, p.ProviderMessageId);
            json.WriteNumberValue(p.SentAt!.Value.ToUnixTimeMilliseconds());
        }), plain.Select(p => p.Id).ToList());
    }

    /// <summary>
    /// Writes outcomes set-based, the rows going in as one JSON array parameter per statement. Every statement that
    /// reads such rows walks them with <c>jsonb_each</c>, not <c>json_each</c>: the latter hands each row's array back as
    /// JSON text that every <c>->></c> then parses again (measured: 13.3-13.9 against 8.9-10.0 µs a row for the SENT
    /// write, 300,000 rows on the real table shape; the parsing was 2.3 s of the writer's CPU in a 1M dispatch).
    /// </summary>
    private async Task WriteOutcomesAsync(SqliteConnection connection, SqliteTransaction tx, PlainRows? plain, List<BatchMessage> settled, long now, HashSet<long> written, CancellationToken ct)
    {
        if (plain is not null)
        {
            // No RETURNING on the hot statement: when it wrote every row (always, unless a row stopped being in flight
            // under it), the IDs are known; otherwise the rows it wrote are the ones holding exactly what it wrote.
            var update = Prepared(connection, tx, WritePlainSql, ["$now", "$rows"]);
            update.Parameters[0].Value = now;
            update.Parameters[1].Value = plain.Json;
            if (await update.ExecuteNonQueryAsync(ct) == plain.Ids.Count)
            {
                written.UnionWith(plain.Ids);
            }
            else
            {
                await CollectIdsAsync(connection, tx, PlainWrittenSql, plain.Json, now, written, ct);
            }
        }
        var other = settled.Where(p => !IsPlain(p)).ToList();
        if (other.Count > 0)
        {
            var rows = JsonRows(other, (json, p) =>
            {
                json.WriteNumberValue(p.Id);
                json.WriteNumberValue((int)p.Final);
                json.WriteStringValue(p.Body);
                json.WriteNumberValue(p.Segments);
                WriteOrNull(json, p.ProviderMessageId);
                if (p.SentAt is { } at)
                {
                    json.WriteNumberValue(at.ToUnixTimeMilliseconds());
                }
                else
                {
                    json.WriteNullValue();
                }
                json.WriteNumberValue(p.Attempts);
                WriteOrNull(json, p.Code);
                WriteOrNull(json, p.Message);
                json.WriteNumberValue(p.Retryable ? 1 : 0);
            });
            await CollectIdsAsync(connection, tx, WriteOtherSql, rows, now, written, ct);
        }
    }

    private static string JsonRows(List<BatchMessage> rows, Action<Utf8JsonWriter, BatchMessage> writeRow)
    {
        var buffer = new ArrayBufferWriter<byte>(rows.Count * 96);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var p in rows)
            {
                json.WriteStartArray();
                writeRow(json, p);
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Runs a statement over the JSON rows that answers message IDs, and adds them to <paramref name="written"/>.</summary>
    private static async Task CollectIdsAsync(SqliteConnection connection, SqliteTransaction tx, string sql, string rows, long now, HashSet<long> written, CancellationToken ct)
    {
        await using var update = connection.CreateCommand();
        update.Transaction = tx;
        update.CommandText = sql;
        update.Parameters.AddWithValue("$now", now);
        update.Parameters.AddWithValue("$rows", rows);
        await using var reader = await update.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            written.Add(reader.GetInt64(0));
        }
    }

    public async Task<bool> CompleteIfDoneAsync(long operationId, CancellationToken ct)
    {
        using var writer = await gate.EnterAsync(ct);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = CompleteIfDoneSql;
        command.Parameters.AddWithValue("$op", operationId);
        command.Parameters.AddWithValue("$now", UnixMs.Now(clock));
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    public async Task<OperationStatus?> ReadStatusAsync(long operationId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await StatusAsync(connection, operationId, ct);
    }

    public async Task<ControlResult?> TransitionAsync(long operationId, OperationStatus[] from, OperationStatus to, string? reason, CancellationToken ct)
    {
        using var writer = await gate.EnterAsync(ct);
        var connection = writer.Connection;
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            UPDATE Operations SET Status = $to, PauseReason = $reason, UpdatedAt = $now,
                StartedAt = CASE WHEN $to = {Processing} THEN COALESCE(StartedAt, $now) ELSE StartedAt END,
                CompletedAt = CASE WHEN $to = {Canceled} THEN $now ELSE CompletedAt END
            WHERE Id = $id AND Status IN ({string.Join(',', from.Select(f => (int)f))})
            """;
        command.Parameters.AddWithValue("$to", (int)to);
        command.Parameters.AddWithValue("$reason", (object?)reason ?? DBNull.Value);
        command.Parameters.AddWithValue("$now", UnixMs.Now(clock));
        command.Parameters.AddWithValue("$id", operationId);
        if (await command.ExecuteNonQueryAsync(ct) == 0)
        {
            return await StatusAsync(connection, operationId, ct) is null ? ControlResult.NotFound : ControlResult.NotAllowed;
        }
        return null;
    }

    public async Task<int> MoveMessagesAsync(long operationId, MessageStatus from, MessageStatus to, CancellationToken ct, bool onlyRetryable = false, bool reopen = false)
    {
        var where = onlyRetryable ? $"Status = {(int)from} AND Retryable = 1" : $"Status = {(int)from}";
        if (from == MessageStatus.Queued)
        {
            // A QUEUED message inside a claimed range is in flight: its batch (or the settlement) decides it.
            where += " AND NOT EXISTS (SELECT 1 FROM ClaimedBatches c WHERE c.OperationId = $op AND Messages.Id BETWEEN c.FromId AND c.ToId)";
        }
        using var writer = await gate.EnterAsync(ct);
        var connection = writer.Connection;
        await using var tx = connection.BeginTransaction();
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = $"UPDATE Messages SET Status = $to, Retryable = 0, UpdatedAt = $now WHERE OperationId = $op AND {where}";
        command.Parameters.AddWithValue("$to", (int)to);
        command.Parameters.AddWithValue("$now", UnixMs.Now(clock));
        command.Parameters.AddWithValue("$op", operationId);
        var moved = await command.ExecuteNonQueryAsync(ct);
        if (moved > 0)
        {
            var delta = new StatsDelta();
            delta.Move(from, to, moved);
            await delta.ApplyAsync(connection, tx, operationId, UnixMs.Now(clock), ct);
            if (reopen)
            {
                await using var reopenCommand = connection.CreateCommand();
                reopenCommand.Transaction = tx;
                reopenCommand.CommandText = $"UPDATE Operations SET Status = {Processing}, CompletedAt = NULL WHERE Id = $op AND Status = {Completed}";
                reopenCommand.Parameters.AddWithValue("$op", operationId);
                await reopenCommand.ExecuteNonQueryAsync(ct);
            }
        }
        await tx.CommitAsync(ct);
        return moved;
    }

    private static async Task<OperationStatus?> StatusAsync(SqliteConnection connection, long operationId, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Status FROM Operations WHERE Id = $id";
        command.Parameters.AddWithValue("$id", operationId);
        var value = await command.ExecuteScalarAsync(ct);
        return value is long s ? (OperationStatus)s : null;
    }
}
