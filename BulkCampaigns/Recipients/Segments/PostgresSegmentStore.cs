using System.Text.Json;
using BulkCampaigns.Data;
using Npgsql;
using NpgsqlTypes;

namespace BulkCampaigns.Recipients.Segments;

/// <summary>
/// Every SQL statement of segments on PostgreSQL: keeping <c>SegmentValues</c> (folded variables as <c>jsonb</c>) in
/// step with the groups, counting, listing and suggesting values. The rows an operation is made from are inserted by
/// <see cref="Dispatch.Postgres.PostgresEngineStore"/> with <see cref="InsertMessagesSql"/>, inside its creation.
/// </summary>
public sealed class PostgresSegmentStore(NpgsqlDataSource dataSource) : ISegmentStore
{
    /// <summary>The advisory lock space of a group's rebuild (beside the engine store's, 0x4243_0002 and _0003).</summary>
    private const int RebuildLock = 0x4243_0004;

    private const int ChunkSize = 20_000;

    public SegmentSql Sql => PostgresSegmentSql.Instance;

    /// <summary>The group's import instant as exact text (microseconds since the epoch), whatever the session's time zone.</summary>
    private const string StampOfGroup = """CAST(CAST(extract(epoch FROM g."LastImportAt") * 1000000 AS bigint) AS text)""";

    private static string StaleSql(IReadOnlyCollection<long> groupIds) => $"""
        SELECT g."Id" FROM "Groups" g LEFT JOIN "SegmentStamps" s ON s."GroupId" = g."Id"
        WHERE {SqliteSegmentStore.GroupList("g.\"Id\"", groupIds)} AND (s."GroupId" IS NULL OR s."Stamp" IS DISTINCT FROM {StampOfGroup})
        ORDER BY g."Id"
        """;

    // Variables all printable ASCII and no escape: lower() folds them exactly as TextFold does (A-Z only), in the
    // database. Any other row is folded in .NET (TextFold.FoldValues) and copied back.
    private const string PlainAscii = """ "VariablesJson" ~ '^[\x20-\x5B\x5D-\x7E]*$' """;

    private const string FoldAsciiSql = $$"""
        INSERT INTO "SegmentValues" ("RecipientId", "GroupId", "Address", "Folded")
        SELECT r."Id", r."GroupId", r."Address",
               CASE WHEN r."VariablesJson" !~ '[A-Z]' THEN CAST(r."VariablesJson" AS jsonb)
                    ELSE COALESCE((SELECT jsonb_object_agg(e.key, CASE WHEN jsonb_typeof(e.value) = 'string'
                                                                     THEN to_jsonb(lower((e.value #>> '{}') COLLATE "C")) ELSE e.value END)
                                   FROM jsonb_each(CAST(r."VariablesJson" AS jsonb)) e), '{}') END
        FROM "Recipients" r WHERE r."GroupId" = @g AND {{PlainAscii}}
        """;

    private const string OthersSql = $"""
        SELECT "Id", "Address", "VariablesJson" FROM "Recipients"
        WHERE "GroupId" = @g AND "Id" > @after AND NOT ({PlainAscii}) ORDER BY "Id" LIMIT @take
        """;

    public async Task EnsureFreshAsync(IReadOnlyCollection<long> groupIds, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if ((await StaleAsync(connection, null, groupIds, ct)).Count == 0)
        {
            return;
        }
        await using var tx = await connection.BeginTransactionAsync(ct);
        await RefreshAsync(connection, tx, groupIds, ct);
        await tx.CommitAsync(ct);
    }

    private static async Task<List<long>> StaleAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, IReadOnlyCollection<long> groupIds, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(StaleSql(groupIds), connection, tx);
        var stale = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            stale.Add(reader.GetInt64(0));
        }
        return stale;
    }

    /// <summary>
    /// Rebuilds the stale groups' rows inside the caller's transaction (an import's build, a count's, or an
    /// operation's creation, so a launch reads exactly what its groups hold then). Each group under its own advisory
    /// lock, taken in id order, and checked again once held: two callers never build one group twice.
    /// </summary>
    public static async Task RefreshAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyCollection<long> groupIds, CancellationToken ct)
    {
        foreach (var groupId in await StaleAsync(connection, tx, groupIds, ct))
        {
            await using (var lockGroup = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@space, @key)", connection, tx))
            {
                lockGroup.Parameters.Add(new NpgsqlParameter<int>("space", RebuildLock));
                lockGroup.Parameters.Add(new NpgsqlParameter<int>("key", (int)(groupId & int.MaxValue)));
                await lockGroup.ExecuteNonQueryAsync(ct);
            }
            if ((await StaleAsync(connection, tx, [groupId], ct)).Count == 0)
            {
                continue; // built by another caller while this one waited
            }
            // The stamp is read before the rows: an import committing while they are built (each statement sees the
            // latest commit) leaves them marked with the older import, so the next reader rebuilds them.
            string? builtFrom;
            await using (var read = new NpgsqlCommand($"""SELECT {StampOfGroup} FROM "Groups" g WHERE g."Id" = @g""", connection, tx))
            {
                read.Parameters.Add(new NpgsqlParameter<long>("g", groupId));
                builtFrom = await read.ExecuteScalarAsync(ct) as string;
            }
            await using (var rebuild = new NpgsqlCommand($"""
                DELETE FROM "SegmentValues" WHERE "GroupId" = @g;
                {FoldAsciiSql};
                """, connection, tx))
            {
                rebuild.Parameters.Add(new NpgsqlParameter<long>("g", groupId));
                rebuild.CommandTimeout = 600;
                await rebuild.ExecuteNonQueryAsync(ct);
            }
            await CopyFoldedAsync(connection, tx, groupId, ct);
            await using var stamp = new NpgsqlCommand(StampSql("@stamp"), connection, tx);
            stamp.Parameters.Add(new NpgsqlParameter<long>("g", groupId));
            stamp.Parameters.Add(new NpgsqlParameter("stamp", NpgsqlDbType.Text) { Value = (object?)builtFrom ?? DBNull.Value });
            await stamp.ExecuteNonQueryAsync(ct);
        }
    }

    private static string StampSql(string stamp) => $"""
        INSERT INTO "SegmentStamps" ("GroupId", "Stamp") SELECT g."Id", {stamp} FROM "Groups" g WHERE g."Id" = @g
        ON CONFLICT ("GroupId") DO UPDATE SET "Stamp" = excluded."Stamp"
        """;

    /// <summary>Whether the group's rows match its last import (inside the caller's transaction).</summary>
    public static async Task<bool> IsFreshAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long groupId, CancellationToken ct) =>
        (await StaleAsync(connection, tx, [groupId], ct)).Count == 0;

    /// <summary>
    /// Marks the group's rows as matching its import as it stands in the caller's transaction: for an import that wrote
    /// them with its move, while it holds the group's row.
    /// </summary>
    public static async Task StampAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long groupId, CancellationToken ct)
    {
        await using var stamp = new NpgsqlCommand(StampSql(StampOfGroup), connection, tx);
        stamp.Parameters.Add(new NpgsqlParameter<long>("g", groupId));
        await stamp.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The rows with letters beyond ASCII (or escapes), folded by <see cref="TextFold"/> and copied in, a chunk at a time.</summary>
    private static async Task CopyFoldedAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long groupId, CancellationToken ct)
    {
        var chunk = new List<(long Id, string Address, string Folded)>(ChunkSize);
        long after = 0;
        while (true)
        {
            chunk.Clear();
            await using (var read = new NpgsqlCommand(OthersSql, connection, tx))
            {
                read.Parameters.Add(new NpgsqlParameter<long>("g", groupId));
                read.Parameters.Add(new NpgsqlParameter<long>("after", after));
                read.Parameters.Add(new NpgsqlParameter<int>("take", ChunkSize));
                await using var reader = await read.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    chunk.Add((reader.GetInt64(0), reader.GetString(1), TextFold.FoldValues(reader.GetString(2))));
                }
            }
            if (chunk.Count == 0)
            {
                return;
            }
            after = chunk[^1].Id;
            await using (var copy = await connection.BeginBinaryImportAsync(
                """COPY "SegmentValues" ("RecipientId", "GroupId", "Address", "Folded") FROM STDIN (FORMAT BINARY)""", ct))
            {
                foreach (var (id, address, folded) in chunk)
                {
                    await copy.StartRowAsync(ct);
                    await copy.WriteAsync(id, NpgsqlDbType.Bigint, ct);
                    await copy.WriteAsync(groupId, NpgsqlDbType.Bigint, ct);
                    await copy.WriteAsync(address, NpgsqlDbType.Varchar, ct);
                    await copy.WriteAsync(folded, NpgsqlDbType.Jsonb, ct);
                }
                await copy.CompleteAsync(ct);
            }
            if (chunk.Count < ChunkSize)
            {
                return;
            }
        }
    }

    private static string Groups(string column, IReadOnlyCollection<long> groupIds) => SqliteSegmentStore.GroupList(column, groupIds);

    private const string IsSuppressed = """EXISTS (SELECT 1 FROM "Suppressions" s WHERE s."Address" = d."Address")""";

    public async Task<(long Count, long Suppressed)> CountAsync(IReadOnlyCollection<long> groupIds, CompiledFilter filter, CancellationToken ct)
    {
        await EnsureFreshAsync(groupIds, ct);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // An address is once per group, so one group needs no DISTINCT (which would sort a million addresses).
        await using var command = new NpgsqlCommand(groupIds.Count == 1
            ? $"""
              SELECT count(*), count(*) FILTER (WHERE {IsSuppressed})
              FROM "SegmentValues" d WHERE {Groups("d.\"GroupId\"", groupIds)} AND {filter.Where}
              """
            : $"""
              SELECT count(DISTINCT d."Address"), count(DISTINCT d."Address") FILTER (WHERE {IsSuppressed})
              FROM "SegmentValues" d WHERE {Groups("d.\"GroupId\"", groupIds)} AND {filter.Where}
              """, connection);
        Bind(command, filter);
        command.CommandTimeout = 120;
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<List<SegmentMember>> PageAsync(IReadOnlyCollection<long> groupIds, CompiledFilter filter, long afterKey, int take, CancellationToken ct)
    {
        await EnsureFreshAsync(groupIds, ct);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand($"""
            SELECT r."Id", r."Address", r."Channel", r."VariablesJson", r."CreatedAt"
            FROM "SegmentValues" d JOIN "Recipients" r ON r."Id" = d."RecipientId"
            WHERE d."RecipientId" > @after AND {Groups("d.\"GroupId\"", groupIds)} AND {filter.Where}
            ORDER BY d."RecipientId" LIMIT @take
            """, connection);
        Bind(command, filter);
        command.Parameters.Add(new NpgsqlParameter<long>("after", afterKey));
        command.Parameters.Add(new NpgsqlParameter<int>("take", take));
        var list = new List<SegmentMember>(take);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new SegmentMember(reader.GetInt64(0), PublicId.Encode(PublicId.Recipient, reader.GetInt64(0)), reader.GetString(1), reader.GetString(2),
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(3)) ?? [], reader.GetFieldValue<DateTimeOffset>(4)));
        }
        return list;
    }

    public async Task<List<(string Value, long Count)>> TopValuesAsync(IReadOnlyCollection<long> groupIds, string variable, int take, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // A sample keeps the suggestion instant on a million rows; the common values are common in it too.
        await using var command = new NpgsqlCommand($"""
            SELECT v, count(*) FROM (SELECT CAST(r."VariablesJson" AS jsonb) ->> @var AS v FROM "Recipients" r WHERE {Groups("r.\"GroupId\"", groupIds)} LIMIT 20000) x
            WHERE v IS NOT NULL AND v <> '' GROUP BY v ORDER BY count(*) DESC, v COLLATE "C" LIMIT @take
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<string>("var", variable));
        command.Parameters.Add(new NpgsqlParameter<int>("take", take));
        var list = new List<(string, long)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add((reader.GetString(0), reader.GetInt64(1)));
        }
        return list;
    }

    /// <summary>
    /// The operation hook: the segment's recipients as the operation's messages (an address already written, inline
    /// or by a group, left as it is), for the creation's <c>WITH inserted AS (…)</c>; bind the filter with <see cref="Bind"/>.
    /// </summary>
    public static string InsertMessagesSql(IReadOnlyCollection<long> groupIds, CompiledFilter filter) => $"""
        INSERT INTO "Messages" ("OperationId", "Address", "Channel", "VariablesJson", "Status", "Segments", "Attempts", "Retryable", "CreatedAt", "UpdatedAt")
        SELECT @op, r."Address", r."Channel", r."VariablesJson", CASE WHEN s."Id" IS NULL THEN @status ELSE @suppressed END, 0, 0, false, @now, @now
        FROM "SegmentValues" d JOIN "Recipients" r ON r."Id" = d."RecipientId" LEFT JOIN "Suppressions" s ON s."Address" = r."Address"
        WHERE {Groups("d.\"GroupId\"", groupIds)} AND {filter.Where}
        ORDER BY d."RecipientId"
        ON CONFLICT ("OperationId", "Address") DO NOTHING
        RETURNING "Id", "Status"
        """;

    /// <summary>Links the operation to the segment, so an unfinished operation blocks the segment's delete.</summary>
    public static async Task LinkAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long operationId, long segmentId, CancellationToken ct)
    {
        await using var link = new NpgsqlCommand("""
            INSERT INTO "OperationSegments" ("OperationId", "SegmentId") VALUES (@op, @seg) ON CONFLICT DO NOTHING
            """, connection, tx);
        link.Parameters.Add(new NpgsqlParameter<long>("op", operationId));
        link.Parameters.Add(new NpgsqlParameter<long>("seg", segmentId));
        await link.ExecuteNonQueryAsync(ct);
    }

    public static void Bind(NpgsqlCommand command, CompiledFilter filter)
    {
        foreach (var (name, value) in filter.Parameters)
        {
            command.Parameters.Add(new NpgsqlParameter(name, value));
        }
    }
}
