using BulkCampaigns.Operations;
using Npgsql;
using OperationStatus = BulkCampaigns.Operations.OperationStatus;

namespace BulkCampaigns.Dispatch.Postgres;

/// <summary>Creating an operation: the operation row, its groups, its segments and its messages, in one transaction.</summary>
public sealed partial class PostgresEngineStore
{
    private const string InsertOperationSql = """
        INSERT INTO "Operations" ("Name", "IsTest", "Status", "SenderId", "FromAddress", "FromChannel", "ContentJson", "TagsJson", "SendAt", "Mps",
            "QuietStart", "QuietEnd", "QuietTimeZone", "DecideAt", "FirstMessageId", "LastMessageId", "Total", "Attempts", "Scheduled", "Queued", "Sending",
            "Sent", "Delivered", "Read", "Undelivered", "Unaddressable", "Failed", "Canceled", "Suppressed", "CreatedAt", "UpdatedAt")
        VALUES (@name, @is_test, @status, @sender, @from, @channel, @content, @tags, @send_at, @mps,
            @quiet_start, @quiet_end, @quiet_zone, @decide_at, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, @now, @now)
        RETURNING "Id"
        """;

    private const string LinkGroupsSql = """
        INSERT INTO "OperationGroups" ("OperationId", "GroupId") SELECT @op, g FROM unnest(@groups) AS g
        """;

    /// <summary>
    /// The messages written answer only their count, ID range and how many are suppressed (aggregated where they are
    /// made, not sent back a million rows). A suppressed address is found by a join with the suppression list.
    /// </summary>
    private const string InsertedSummary = """
        SELECT count(*), COALESCE(min("Id"), 0), COALESCE(max("Id"), 0), count(*) FILTER (WHERE "Status" = @suppressed) FROM inserted
        """;

    /// <summary>Inline recipients in the request's order: the first of an address wins, and wins over any group's row.</summary>
    private const string InsertInlineSql = $"""
        WITH inserted AS (
            INSERT INTO "Messages" ("OperationId", "Address", "Channel", "VariablesJson", "Status", "Segments", "Attempts", "Retryable", "CreatedAt", "UpdatedAt")
            SELECT @op, u.address, u.channel, u.variables, CASE WHEN s."Id" IS NULL THEN @status ELSE @suppressed END, 0, 0, false, @now, @now
            FROM unnest(@addresses, @channels, @variables) WITH ORDINALITY AS u(address, channel, variables, ord)
            LEFT JOIN "Suppressions" s ON s."Address" = u.address
            ORDER BY u.ord
            ON CONFLICT ("OperationId", "Address") DO NOTHING
            RETURNING "Id", "Status")
        {InsertedSummary}
        """;

    /// <summary>One group's recipients; an address already written (inline, or by an earlier group) is left as it is.</summary>
    private const string InsertGroupSql = $"""
        WITH inserted AS (
            INSERT INTO "Messages" ("OperationId", "Address", "Channel", "VariablesJson", "Status", "Segments", "Attempts", "Retryable", "CreatedAt", "UpdatedAt")
            SELECT @op, r."Address", r."Channel", r."VariablesJson", CASE WHEN s."Id" IS NULL THEN @status ELSE @suppressed END, 0, 0, false, @now, @now
            FROM "Recipients" r LEFT JOIN "Suppressions" s ON s."Address" = r."Address"
            WHERE r."GroupId" = @group
            ON CONFLICT ("OperationId", "Address") DO NOTHING
            RETURNING "Id", "Status")
        {InsertedSummary}
        """;

    private const string CreatedCountersSql = """
        UPDATE "Operations" SET "FirstMessageId" = @first, "LastMessageId" = @last, "Total" = @total,
            "Scheduled" = @scheduled, "Queued" = @queued, "Suppressed" = @suppressed_count,
            "Status" = CASE WHEN @done THEN @completed ELSE "Status" END,
            "StartedAt" = CASE WHEN @done OR "Status" = @processing THEN @now ELSE NULL END,
            "CompletedAt" = CASE WHEN @done THEN @now ELSE NULL END
        WHERE "Id" = @op
        """;

    public async Task<long> CreateOperationAsync(NewOperation operation, IReadOnlyList<NewRecipient> inline, IReadOnlyList<long> groupIds,
        IReadOnlyList<Recipients.Segments.SegmentSource> segments, long now, CancellationToken ct)
    {
        var initial = operation.SendAt is null ? MessageStatus.Queued : MessageStatus.Scheduled;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // One creation at a time (only creations insert messages): an operation's message IDs then run unbroken
        // from its first to its last, so each batch's ID range is full of its own messages.
        await LockAsync(connection, tx, LockSpace.Creation, 0, shared: false, ct);

        long operationId;
        await using (var insert = Sql(connection, tx, InsertOperationSql))
        {
            var quiet = operation.Quiet;
            insert.Add("name", operation.Name).Add("is_test", operation.IsTest)
                .Add("status", operation.SendAt is null ? OperationStatus.Processing : OperationStatus.Scheduled)
                .Add("sender", operation.SenderId).Add("from", operation.FromAddress).Add("channel", operation.FromChannel)
                .Add("content", operation.ContentJson).Add("tags", operation.TagsJson).Add("send_at", operation.SendAt?.ToUnixTimeMilliseconds())
                .Add("mps", operation.Mps).Add("quiet_start", quiet?.Start).Add("quiet_end", quiet?.End).Add("quiet_zone", quiet?.TimeZoneId)
                .Add("now", now).Add("decide_at", operation.DecideAt?.ToUnixTimeMilliseconds());
            operationId = (long)(await insert.ExecuteScalarAsync(ct))!;
        }
        if (groupIds.Count > 0)
        {
            await using var link = Sql(connection, tx, LinkGroupsSql);
            link.Add("op", operationId).Add("groups", groupIds.ToArray());
            await link.ExecuteNonQueryAsync(ct);
        }

        var written = new Inserted();
        // Inline recipients first: their variables win over a group's row for the same address.
        if (inline.Count > 0)
        {
            await using var insert = Sql(connection, tx, InsertInlineSql);
            insert.Add("addresses", inline.Select(r => r.Address).ToArray()).Add("channels", inline.Select(r => r.Channel).ToArray())
                .Add("variables", inline.Select(r => r.VariablesJson).ToArray());
            await written.AddAsync(insert, operationId, initial, now, ct);
        }
        foreach (var groupId in groupIds)
        {
            await using var insert = GroupSizedSql(connection, tx, InsertGroupSql);
            insert.Add("group", groupId);
            await written.AddAsync(insert, operationId, initial, now, ct);
        }
        // A segment is evaluated here, once: its groups' folded rows brought up to date in this transaction, then
        // its matching recipients written like a group's.
        foreach (var segment in segments)
        {
            await Recipients.Segments.PostgresSegmentStore.RefreshAsync(connection, tx, segment.GroupIds, ct);
            await Recipients.Segments.PostgresSegmentStore.LinkAsync(connection, tx, operationId, segment.SegmentId, ct);
            await using var insert = Sql(connection, tx, $"""
                WITH inserted AS ({Recipients.Segments.PostgresSegmentStore.InsertMessagesSql(segment.GroupIds, segment.Filter)})
                {InsertedSummary}
                """);
            insert.CommandTimeout = 600;
            Recipients.Segments.PostgresSegmentStore.Bind(insert, segment.Filter);
            await written.AddAsync(insert, operationId, initial, now, ct);
        }

        var held = operation.Variants is { } plan && written.Count > 0
            ? await AssignVariantsAsync(connection, tx, plan, operationId, written.First, written.Last, ct)
            : 0;
        var toSend = written.Count - written.Suppressed;
        var sendable = toSend - held;
        await using (var stats = Sql(connection, tx, CreatedCountersSql))
        {
            stats.Add("op", operationId).Add("first", written.First).Add("last", written.Last).Add("total", written.Count)
                .Add("scheduled", (initial == MessageStatus.Scheduled ? sendable : 0) + held).Add("queued", initial == MessageStatus.Queued ? sendable : 0)
                .Add("suppressed_count", written.Suppressed).Add("done", toSend == 0).Add("now", now)
                .Add("completed", OperationStatus.Completed).Add("processing", OperationStatus.Processing);
            await stats.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        if (written.Count >= AnalyzeFrom)
        {
            await AnalyzeAsync(connection, "\"Messages\"", ct);
        }
        return operationId;
    }

    /// <summary>From this many rows written at once, the table's statistics are taken again at once (<see cref="AnalyzeAsync"/>).</summary>
    internal const long AnalyzeFrom = 10_000;

    /// <summary>
    /// Takes the tables' planner statistics again (a sample of 30,000 rows each, a fraction of a second), after a launch
    /// or an import wrote many rows. Until autovacuum does it (a minute or more later), the planner judges by the
    /// tables as they were: with a million new messages of an operation it had no figures for, each batch's claim
    /// walked the operation's whole (OperationId, Address) index instead of its 1,000 IDs, 225 ms a batch instead of
    /// under 1 ms (EXPLAIN ANALYZE), and the campaign took 94 s instead of 58 s. Called after the commit, so it never
    /// fails what was written: a failure only leaves the statistics to autovacuum.
    /// </summary>
    internal static async Task AnalyzeAsync(NpgsqlConnection connection, string tables, CancellationToken ct)
    {
        try
        {
            await using var analyze = Sql(connection, null, "ANALYZE " + tables);
            analyze.CommandTimeout = 120;
            await analyze.ExecuteNonQueryAsync(ct);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException)
        {
        }
    }

    /// <summary>The messages written so far: how many, their ID range, how many suppressed.</summary>
    /// <summary>The bucket numbers of <see cref="VariantPlan.Bucket"/>, from PostgreSQL's own md5 of "operation id:address".</summary>
    private static string BucketSql(int part) => $"('x' || substr(md5(@op::text || ':' || \"Address\"), {1 + (part * 8)}, 8))::bit(32)::bigint";

    /// <summary>Writes each new message's A/B variant, and with a test holds the messages outside its share (<see cref="VariantPlan"/>); answers how many are held.</summary>
    private static async Task<long> AssignVariantsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, VariantPlan plan, long operationId, long first, long last, CancellationToken ct)
    {
        const string mine = "\"OperationId\" = @op AND \"Id\" BETWEEN @first AND @last AND \"Status\" <> @suppressed";
        long held = 0;
        if (plan.TestCutoff is { } cutoff)
        {
            held = await RunAsync($"""
                UPDATE "Messages" m SET "Status" = @held
                FROM (SELECT "Id", row_number() OVER (ORDER BY {BucketSql(1)}, "Id") AS rn, count(*) OVER () AS n FROM "Messages" WHERE {mine}) r
                WHERE m."Id" = r."Id" AND {VariantPlan.PositionSql("r.rn", "r.n")} >= {cutoff}
                """);
        }
        await RunAsync($"""
            UPDATE "Messages" m SET "Variant" = r.v
            FROM (SELECT "Id", {plan.PickSql(VariantPlan.PositionSql("rn", "n"))} AS v
                  FROM (SELECT "Id", row_number() OVER (ORDER BY {BucketSql(0)}, "Id") AS rn, count(*) OVER () AS n
                        FROM "Messages" WHERE {mine} AND "Status" <> @held) x) r
            WHERE m."Id" = r."Id"
            """);
        return held;

        async Task<long> RunAsync(string sql)
        {
            await using var command = Sql(connection, tx, sql);
            command.Add("op", operationId).Add("first", first).Add("last", last).Add("suppressed", MessageStatus.Suppressed).Add("held", MessageStatus.Held);
            return await command.ExecuteNonQueryAsync(ct);
        }
    }

    private sealed class Inserted
    {
        public long Count { get; private set; }
        public long First { get; private set; }
        public long Last { get; private set; }
        public long Suppressed { get; private set; }

        public async Task AddAsync(NpgsqlCommand insert, long operationId, MessageStatus initial, long now, CancellationToken ct)
        {
            insert.Add("op", operationId).Add("status", initial).Add("suppressed", MessageStatus.Suppressed).Add("now", now);
            await using var reader = await insert.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var count = reader.GetInt64(0);
            if (count == 0)
            {
                return;
            }
            First = Count == 0 ? reader.GetInt64(1) : Math.Min(First, reader.GetInt64(1));
            Last = Math.Max(Last, reader.GetInt64(2));
            Count += count;
            Suppressed += reader.GetInt64(3);
        }
    }
}
