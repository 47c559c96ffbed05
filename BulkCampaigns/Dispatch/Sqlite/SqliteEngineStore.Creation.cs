using System.Globalization;
using BulkCampaigns.Operations;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Dispatch.Sqlite;

/// <summary>Creating an operation: the operation row, its groups and its messages, in one write.</summary>
public sealed partial class SqliteEngineStore
{
    private const int Suppressed = (int)MessageStatus.Suppressed;

    private const string InsertOperationSql = """
        INSERT INTO Operations (Name, IsTest, Status, SenderId, FromAddress, FromChannel, ContentJson, TagsJson, SendAt, Mps, QuietStart, QuietEnd, QuietTimeZone, DecideAt,
            FirstMessageId, LastMessageId,
            Total, Attempts, Scheduled, Queued, Sending, Sent, Delivered, Read, Undelivered, Unaddressable, Failed, Canceled, Suppressed, CreatedAt, UpdatedAt)
        VALUES ($name, $isTest, $status, $sender, $from, $channel, $content, $tags, $sendAt, $mps, $quietStart, $quietEnd, $quietZone, $decideAt,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, $now, $now)
        RETURNING Id
        """;

    /// <summary>A message is written SUPPRESSED when its address is on the suppression list, else with the operation's first status.</summary>
    private static string StatusFor(string address) =>
        $"CASE WHEN EXISTS (SELECT 1 FROM Suppressions s WHERE s.Address = {address}) THEN {Suppressed} ELSE $status END";

    private static readonly string InsertInlineSql = $"""
        INSERT OR IGNORE INTO Messages (OperationId, Address, Channel, VariablesJson, Status, Segments, Attempts, Retryable, CreatedAt, UpdatedAt)
        VALUES ($op, $address, $channel, $variables, {StatusFor("$address")}, 0, 0, 0, $now, $now)
        """;

    private static readonly string InsertGroupSql = $"""
        INSERT OR IGNORE INTO Messages (OperationId, Address, Channel, VariablesJson, Status, Segments, Attempts, Retryable, CreatedAt, UpdatedAt)
        SELECT $op, r.Address, r.Channel, r.VariablesJson, {StatusFor("r.Address")}, 0, 0, 0, $now, $now
        FROM Recipients r WHERE r.GroupId = $group
        """;

    /// <summary>
    /// The new messages' ID range and how many are suppressed, without reading the million rows again: one writer
    /// means the new IDs run from the first above <c>$before</c> to the largest, and the suppressed ones are counted
    /// from the suppression list's side when that list is the shorter.
    /// </summary>
    private static readonly string NewRangeSql = $"""
        SELECT (SELECT Id FROM Messages WHERE Id > $before ORDER BY Id LIMIT 1), (SELECT MAX(Id) FROM Messages),
               CASE WHEN (SELECT COUNT(*) FROM Suppressions) <= $inserted
                    THEN (SELECT COUNT(*) FROM Suppressions s WHERE EXISTS (SELECT 1 FROM Messages m WHERE m.OperationId = $op AND m.Address = s.Address))
                    ELSE (SELECT COUNT(*) FROM Messages WHERE Id > $before AND Status = {Suppressed}) END
        """;

    private static readonly string CreatedCountersSql = $"""
        UPDATE Operations SET FirstMessageId = $first, LastMessageId = $last, Total = $total,
            Scheduled = $scheduled, Queued = $queued, Suppressed = $suppressed,
            Status = CASE WHEN $done = 1 THEN {Completed} ELSE Status END,
            StartedAt = CASE WHEN $done = 1 OR Status = {Processing} THEN $now ELSE NULL END,
            CompletedAt = CASE WHEN $done = 1 THEN $now ELSE NULL END
        WHERE Id = $op
        """;

    public async Task<long> CreateOperationAsync(NewOperation operation, IReadOnlyList<NewRecipient> inline, IReadOnlyList<long> groupIds,
        IReadOnlyList<Recipients.Segments.SegmentSource> segments, long now, CancellationToken ct)
    {
        var initial = operation.SendAt is null ? MessageStatus.Queued : MessageStatus.Scheduled;
        using var writer = await gate.EnterAsync(ct);
        var connection = writer.Connection;
        await using var tx = connection.BeginTransaction();

        // One writer holds the database until commit, so every message row above this ID is this operation's.
        long before;
        await using (var max = connection.CreateCommand())
        {
            max.Transaction = tx;
            max.CommandText = "SELECT COALESCE(MAX(Id), 0) FROM Messages";
            before = (long)(await max.ExecuteScalarAsync(ct))!;
        }

        var operationId = await InsertOperationAsync(connection, tx, operation, now, ct);
        foreach (var groupId in groupIds)
        {
            await using var link = connection.CreateCommand();
            link.Transaction = tx;
            link.CommandText = "INSERT INTO OperationGroups (OperationId, GroupId) VALUES ($op, $g)";
            link.Parameters.AddWithValue("$op", operationId);
            link.Parameters.AddWithValue("$g", groupId);
            await link.ExecuteNonQueryAsync(ct);
        }

        long inserted = 0;
        // Inline recipients first: their variables win over a group's row for the same address.
        if (inline.Count > 0)
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = InsertInlineSql;
            insert.Parameters.AddWithValue("$op", operationId);
            insert.Parameters.AddWithValue("$status", (int)initial);
            insert.Parameters.AddWithValue("$now", now);
            var address = insert.Parameters.Add("$address", SqliteType.Text);
            var channel = insert.Parameters.Add("$channel", SqliteType.Text);
            var variables = insert.Parameters.Add("$variables", SqliteType.Text);
            insert.Prepare();
            foreach (var r in inline)
            {
                address.Value = r.Address;
                channel.Value = r.Channel;
                variables.Value = r.VariablesJson;
                inserted += await insert.ExecuteNonQueryAsync(ct);
            }
        }
        foreach (var groupId in groupIds)
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = InsertGroupSql;
            insert.Parameters.AddWithValue("$op", operationId);
            insert.Parameters.AddWithValue("$status", (int)initial);
            insert.Parameters.AddWithValue("$now", now);
            insert.Parameters.AddWithValue("$group", groupId);
            inserted += await insert.ExecuteNonQueryAsync(ct);
        }
        foreach (var segment in segments)
        {
            inserted += await Recipients.Segments.SqliteSegmentStore.InsertMessagesAsync(connection, tx, operationId, segment.SegmentId, segment.GroupIds, segment.Filter, initial, now, ct);
        }

        long first = 0, last = 0, suppressed = 0;
        if (inserted > 0)
        {
            await using var range = connection.CreateCommand();
            range.Transaction = tx;
            range.CommandText = NewRangeSql;
            range.Parameters.AddWithValue("$before", before);
            range.Parameters.AddWithValue("$inserted", inserted);
            range.Parameters.AddWithValue("$op", operationId);
            await using var reader = await range.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            first = reader.GetInt64(0);
            last = reader.GetInt64(1);
            suppressed = reader.GetInt64(2);
        }
        long held = 0;
        if (operation.Variants is { } plan && inserted > 0)
        {
            held = await AssignVariantsAsync(connection, tx, plan, operationId, first, last, ct);
        }
        var toSend = inserted - suppressed;
        var sendable = toSend - held;
        await using (var stats = connection.CreateCommand())
        {
            stats.Transaction = tx;
            stats.CommandText = CreatedCountersSql;
            stats.Parameters.AddWithValue("$op", operationId);
            stats.Parameters.AddWithValue("$first", first);
            stats.Parameters.AddWithValue("$last", last);
            stats.Parameters.AddWithValue("$total", inserted);
            stats.Parameters.AddWithValue("$scheduled", (initial == MessageStatus.Scheduled ? sendable : 0) + held);
            stats.Parameters.AddWithValue("$queued", initial == MessageStatus.Queued ? sendable : 0);
            stats.Parameters.AddWithValue("$suppressed", suppressed);
            stats.Parameters.AddWithValue("$done", toSend == 0 ? 1 : 0);
            stats.Parameters.AddWithValue("$now", now);
            await stats.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return operationId;
    }

    /// <summary>
    /// Writes each new message's A/B variant (<see cref="VariantPlan"/>, through a function of this connection so both
    /// databases compute the same split), and with a test holds the messages outside its share; answers how many are held.
    /// </summary>
    private static async Task<long> AssignVariantsAsync(SqliteConnection connection, SqliteTransaction tx, VariantPlan plan, long operationId, long first, long last, CancellationToken ct)
    {
        connection.CreateFunction<long, string, long, long>("bc_variant_bucket", (op, address, part) => VariantPlan.Bucket(op, address, (int)part), isDeterministic: true);
        var mine = $"Id BETWEEN $first AND $last AND +OperationId = $op AND Status <> {Suppressed}";
        long held = 0;
        if (plan.TestCutoff is { } cutoff)
        {
            held = await RunAsync($"""
                UPDATE Messages SET Status = {(int)MessageStatus.Held}
                FROM (SELECT Id, ROW_NUMBER() OVER (ORDER BY bc_variant_bucket($op, Address, 1), Id) AS rn, COUNT(*) OVER () AS n FROM Messages WHERE {mine}) AS r
                WHERE Messages.Id = r.Id AND {VariantPlan.PositionSql("r.rn", "r.n")} >= {cutoff}
                """);
        }
        await RunAsync($"""
            UPDATE Messages SET Variant = r.v
            FROM (SELECT Id, {plan.PickSql(VariantPlan.PositionSql("rn", "n"))} AS v
                  FROM (SELECT Id, ROW_NUMBER() OVER (ORDER BY bc_variant_bucket($op, Address, 0), Id) AS rn, COUNT(*) OVER () AS n
                        FROM Messages WHERE {mine} AND Status <> {(int)MessageStatus.Held})) AS r
            WHERE Messages.Id = r.Id
            """);
        return held;

        async Task<long> RunAsync(string sql)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = sql;
            command.Parameters.AddWithValue("$op", operationId);
            command.Parameters.AddWithValue("$first", first);
            command.Parameters.AddWithValue("$last", last);
            return await command.ExecuteNonQueryAsync(ct);
        }
    }

    private static async Task<long> InsertOperationAsync(SqliteConnection connection, SqliteTransaction tx, NewOperation operation, long now, CancellationToken ct)
    {
        await using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = InsertOperationSql;
        insert.Parameters.AddWithValue("$name", (object?)operation.Name ?? DBNull.Value);
        insert.Parameters.AddWithValue("$isTest", operation.IsTest);
        insert.Parameters.AddWithValue("$status", (int)(operation.SendAt is null ? OperationStatus.Processing : OperationStatus.Scheduled));
        insert.Parameters.AddWithValue("$sender", operation.SenderId);
        insert.Parameters.AddWithValue("$from", operation.FromAddress);
        insert.Parameters.AddWithValue("$channel", operation.FromChannel);
        insert.Parameters.AddWithValue("$content", operation.ContentJson);
        insert.Parameters.AddWithValue("$tags", operation.TagsJson);
        insert.Parameters.AddWithValue("$sendAt", operation.SendAt is { } s ? s.ToUnixTimeMilliseconds() : DBNull.Value);
        insert.Parameters.AddWithValue("$now", now);
        insert.Parameters.AddWithValue("$decideAt", operation.DecideAt is { } d ? d.ToUnixTimeMilliseconds() : DBNull.Value);
        insert.Parameters.AddWithValue("$mps", operation.Mps is { } m ? m : DBNull.Value);
        // The text EF Core's SQLite provider writes for a TimeOnly, so the entity reads it back.
        var quiet = operation.Quiet;
        insert.Parameters.AddWithValue("$quietStart", quiet is null ? DBNull.Value : quiet.Start.ToString("HH:mm:ss", CultureInfo.InvariantCulture));
        insert.Parameters.AddWithValue("$quietEnd", quiet is null ? DBNull.Value : quiet.End.ToString("HH:mm:ss", CultureInfo.InvariantCulture));
        insert.Parameters.AddWithValue("$quietZone", quiet is null ? DBNull.Value : quiet.TimeZoneId);
        return (long)(await insert.ExecuteScalarAsync(ct))!;
    }
}
