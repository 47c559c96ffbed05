using System.Text;
using System.Text.Json;
using BulkCampaigns.Recipients;
using Npgsql;
using NpgsqlTypes;

namespace BulkCampaigns.Dispatch.Postgres;

/// <summary>
/// The import's statements on PostgreSQL: its start, progress and failure, and its stage, a TEMP table of a connection
/// of its own filled by binary COPY, moved into the group by one <c>INSERT … SELECT … ON CONFLICT</c>.
/// </summary>
public sealed partial class PostgresEngineStore
{
    private const string StartImportSql = """
        SELECT "GroupId", "Mode", "DefaultRegion", "AddressColumn", "ChannelColumn", "StoredFile" FROM "Imports"
        WHERE "Id" = @id AND "Status" = 'PROCESSING' FOR UPDATE
        """;

    /// <summary>A cut-off attempt's report rows go, and its counts start again.</summary>
    private const string RestartImportSql = """
        WITH errors AS (DELETE FROM "ImportErrors" WHERE "ImportId" = @id),
        duplicates AS (DELETE FROM "ImportDuplicates" WHERE "ImportId" = @id)
        UPDATE "Imports" SET "Attempts" = "Attempts" + 1, "StartedAt" = @now, "RowsRead" = 0, "BytesRead" = 0, "Imported" = 0,
            "Updated" = 0, "Duplicates" = 0, "Rejected" = 0
        WHERE "Id" = @id
        """;

    private const string SaveImportProgressSql = """
        UPDATE "Imports" SET "RowsRead" = @rows, "BytesRead" = @bytes, "Imported" = @distinct, "Duplicates" = @dups, "Rejected" = @rejected
        WHERE "Id" = @id AND "Status" = 'PROCESSING'
        """;

    private const string FailImportSql = """
        UPDATE "Imports" SET "Status" = 'FAILED', "Message" = @message, "RowsRead" = @rows, "BytesRead" = @bytes, "Imported" = 0, "Updated" = 0,
            "Duplicates" = @dups, "Rejected" = @rejected, "CompletedAt" = @now
        WHERE "Id" = @id AND "Status" = 'PROCESSING'
        """;

    private const string InsertImportErrorsSql = """
        INSERT INTO "ImportErrors" ("ImportId", "Row", "Line", "Column", "Value", "Reason")
        SELECT @id, u.r, u.l, u.c, u.v, u.reason FROM unnest(@rows, @lines, @columns, @values, @reasons) AS u(r, l, c, v, reason)
        """;

    private const string InsertImportDuplicatesSql = """
        INSERT INTO "ImportDuplicates" ("ImportId", "Row", "Line", "Address", "FirstRow")
        SELECT @id, u.r, u.l, '+' || u.k, u.f FROM unnest(@rows, @lines, @keys, @firsts) AS u(r, l, k, f)
        """;

    public async Task<ImportJobSettings?> StartImportAsync(long importId, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        ImportJobSettings? row = null;
        await using (var select = Sql(connection, tx, StartImportSql))
        {
            select.Add("id", importId);
            await using var reader = await select.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                row = new ImportJobSettings(importId, reader.GetInt64(0), reader.GetString(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5));
            }
        }
        if (row is null)
        {
            return null;
        }
        await using (var restart = Sql(connection, tx, RestartImportSql))
        {
            restart.Add("id", importId).Add("now", now.ToUniversalTime());
            await restart.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return row;
    }

    public async Task<List<string>> GroupVariablesAsync(long groupId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = Sql(connection, null, """SELECT "AttributeKeysJson" FROM "Groups" WHERE "Id" = @g""");
        command.Add("g", groupId);
        return await command.ExecuteScalarAsync(ct) is string json ? JsonSerializer.Deserialize<List<string>>(json) ?? [] : [];
    }

    public async Task<IImportStaging> OpenImportStagingAsync(CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            return await PostgresImportStaging.CreateAsync(connection, ct);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task SaveImportProgressAsync(long importId, ImportCounts counts, ImportReport report, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await WriteImportReportAsync(connection, tx, importId, report, ct);
        await using (var update = Sql(connection, tx, SaveImportProgressSql))
        {
            update.Add("id", importId).Add("rows", counts.RowsRead).Add("bytes", counts.BytesRead).Add("distinct", counts.Distinct)
                .Add("dups", counts.Duplicates).Add("rejected", counts.Rejected);
            await update.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    public async Task FailImportAsync(long importId, string message, ImportCounts counts, ImportReport report, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await WriteImportReportAsync(connection, tx, importId, report, ct);
        await using (var update = Sql(connection, tx, FailImportSql))
        {
            update.Add("id", importId).Add("message", message).Add("rows", counts.RowsRead).Add("bytes", counts.BytesRead)
                .Add("dups", counts.Duplicates).Add("rejected", counts.Rejected).Add("now", now.ToUniversalTime());
            await update.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>Writes the report's pending rejected and merged rows (one statement each), then clears them.</summary>
    internal static async Task WriteImportReportAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, long importId, ImportReport report, CancellationToken ct)
    {
        if (report.Rejected.Count > 0)
        {
            var rejected = report.Rejected;
            await using var insert = Sql(connection, tx, InsertImportErrorsSql);
            insert.Add("id", importId).Add("rows", rejected.Select(e => e.Row).ToArray()).Add("lines", rejected.Select(e => e.Line).ToArray())
                .Add("columns", rejected.Select(e => e.Column).ToArray())
                .Add("values", rejected.Select(e => e.Value is { Length: > 1000 } v ? v[..1000] : e.Value).ToArray())
                .Add("reasons", rejected.Select(e => e.Reason).ToArray());
            await insert.ExecuteNonQueryAsync(ct);
        }
        if (report.Merged.Count > 0)
        {
            var merged = report.Merged;
            await using var insert = Sql(connection, tx, InsertImportDuplicatesSql);
            insert.Add("id", importId).Add("rows", merged.Select(d => d.Row).ToArray()).Add("lines", merged.Select(d => d.Line).ToArray())
                .Add("keys", merged.Select(d => d.Key).ToArray()).Add("firsts", merged.Select(d => d.FirstRow).ToArray());
            await insert.ExecuteNonQueryAsync(ct);
        }
        report.Clear();
    }

    internal static NpgsqlCommand ImportSql(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql) => Sql(connection, tx, sql);
}

/// <summary>
/// One import's stage: a TEMP table of its own connection (no WAL, no lock on the group), filled in file order by binary
/// COPY; each row carries its place in the file, so the move can keep the later (upsert) or the first (append) row of an
/// address. A checkpoint ends the COPY under way (its rows are then in the table); the next rows start another.
/// </summary>
internal sealed class PostgresImportStaging : IImportStaging
{
    private readonly NpgsqlConnection _connection;
    private NpgsqlBinaryImporter? _copy;
    private long _order;

    private PostgresImportStaging(NpgsqlConnection connection) => _connection = connection;

    public static async Task<PostgresImportStaging> CreateAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var create = PostgresEngineStore.ImportSql(connection, null,
            "DROP TABLE IF EXISTS import_stage; CREATE TEMP TABLE import_stage (ord bigint NOT NULL, key bigint NOT NULL, channel text NOT NULL, vars text NOT NULL, folded text NULL)");
        await create.ExecuteNonQueryAsync(ct);
        return new PostgresImportStaging(connection);
    }

    /// <summary>
    /// The row's variables folded for segments as JSON text (<see cref="Recipients.Segments.TextFold.FoldValues"/>), on the
    /// validating cores; empty when the fold is the variables themselves (ASCII without capitals or escapes, most rows
    /// of many files), which the stage then leaves NULL.
    /// </summary>
    public ReadOnlyMemory<byte> Fold(in ValidRecipient row, ByteSlices bytes)
    {
        if (!Recipients.Segments.TextFold.NeedsFolding(row.Json.Span))
        {
            return default;
        }
        var folded = Recipients.Segments.TextFold.FoldValues(Encoding.UTF8.GetString(row.Json.Span));
        var room = bytes.Reserve(Encoding.UTF8.GetMaxByteCount(folded.Length));
        return bytes.Take(Encoding.UTF8.GetBytes(folded, room));
    }

    public async ValueTask AddAsync(ReadOnlyMemory<ValidRecipient> rows, CancellationToken ct)
    {
        _copy ??= await _connection.BeginBinaryImportAsync("COPY import_stage (ord, key, channel, vars, folded) FROM STDIN (FORMAT BINARY)", ct);
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows.Span[i];
            await _copy.StartRowAsync(ct);
            await _copy.WriteAsync(++_order, NpgsqlDbType.Bigint, ct);
            await _copy.WriteAsync(row.Key, NpgsqlDbType.Bigint, ct);
            await _copy.WriteAsync(row.Channel, NpgsqlDbType.Text, ct);
            await _copy.WriteAsync(Encoding.UTF8.GetString(row.Json.Span), NpgsqlDbType.Text, ct);
            if (row.Folded.IsEmpty)
            {
                await _copy.WriteNullAsync(ct);
            }
            else
            {
                await _copy.WriteAsync(Encoding.UTF8.GetString(row.Folded.Span), NpgsqlDbType.Text, ct);
            }
        }
    }

    public async ValueTask CheckpointAsync(CancellationToken ct)
    {
        if (_copy is not null)
        {
            await _copy.CompleteAsync(ct);
            await _copy.DisposeAsync();
            _copy = null;
        }
    }

    public async Task<ImportMoveOutcome> MoveAsync(ImportMoveRequest request, CancellationToken ct)
    {
        await CheckpointAsync(ct);
        var import = request.Import;
        var staged = request.Counts.Distinct;
        var now = request.Now.ToUniversalTime();
        await using var tx = await _connection.BeginTransactionAsync(ct);
        // The move sorts the stage by address (one row per address): with the server's default work_mem (4 MB) a
        // million rows spilled a 145 MB temporary file, and the move took 90.7 s against 62.0 s sorted in memory (the
        // same statement on the same server and data, load ~60). Only this transaction's sort may use that much.
        await using (var memory = Command(tx, "SET LOCAL work_mem = '256MB'"))
        {
            await memory.ExecuteNonQueryAsync(ct);
        }
        long groupCount;
        string keysJson;
        // The group's row locked: two imports into one group take turns, each counting what the other added.
        await using (var group = Command(tx, """SELECT "RecipientCount", "AttributeKeysJson" FROM "Groups" WHERE "Id" = @g FOR UPDATE"""))
        {
            group.Add("g", import.GroupId);
            await using var reader = await group.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return new ImportMoveOutcome.GroupGone();
            }
            groupCount = reader.GetInt64(0);
            keysJson = reader.GetString(1);
        }
        var replace = import.Mode == ImportMode.Replace;
        var append = import.Mode == ImportMode.Append;
        long existing = 0;
        if (!replace && groupCount > 0)
        {
            await using var count = Command(tx, """
                SELECT count(*) FROM (SELECT DISTINCT key FROM import_stage) s
                WHERE EXISTS (SELECT 1 FROM "Recipients" r WHERE r."GroupId" = @g AND r."Address" = '+' || s.key)
                """);
            count.Add("g", import.GroupId);
            existing = (long)(await count.ExecuteScalarAsync(ct))!;
        }
        var total = replace ? staged : groupCount + staged - existing;
        if (total > request.MaxRecipients)
        {
            return new ImportMoveOutcome.OverLimit(total);
        }
        // The group's segment rows (SegmentValues) follow the move in the same statement when they matched the group
        // before it, or when the move leaves no older recipient; otherwise the rebuild after the move makes them all.
        var foldInMove = replace || groupCount == 0
            || await Recipients.Segments.PostgresSegmentStore.IsFreshAsync(_connection, tx, import.GroupId, ct);
        if (replace || groupCount == 0)
        {
            await using var delete = Command(tx, $"""
                {(replace ? """DELETE FROM "Recipients" WHERE "GroupId" = @g;""" : "")}
                DELETE FROM "SegmentValues" WHERE "GroupId" = @g;
                """);
            delete.Add("g", import.GroupId);
            await delete.ExecuteNonQueryAsync(ct);
        }
        // One row per address (ON CONFLICT may not touch a row twice in one statement): an upsert or a replace keeps
        // the address's last row in the file, an append its first, and the existing recipient only when appending.
        var insert = $"""
            INSERT INTO "Recipients" ("GroupId", "Address", "Channel", "VariablesJson", "CreatedAt")
            SELECT @g, '+' || s.key, s.channel, s.vars, @now FROM s
            {(append
                ? """ON CONFLICT ("GroupId", "Address") DO NOTHING"""
                : """ON CONFLICT ("GroupId", "Address") DO UPDATE SET "Channel" = excluded."Channel", "VariablesJson" = excluded."VariablesJson" """)}
            """;
        var rows = $"SELECT DISTINCT ON (key) key, channel, vars, folded FROM import_stage ORDER BY key, ord {(append ? "ASC" : "DESC")}";
        // The rows the insert wrote (an append's new ones, an upsert's new and updated ones) take the stage's fold.
        await using (var move = Command(tx, foldInMove
            ? $"""
              WITH s AS MATERIALIZED ({rows}),
              moved AS ({insert} RETURNING "Id", "Address")
              INSERT INTO "SegmentValues" ("RecipientId", "GroupId", "Address", "Folded")
              SELECT m."Id", @g, m."Address", CAST(COALESCE(s.folded, s.vars) AS jsonb) FROM moved m JOIN s ON m."Address" = '+' || s.key
              ON CONFLICT ("RecipientId") DO UPDATE SET "Folded" = excluded."Folded"
              """
            : $"WITH s AS ({rows}) {insert}"))
        {
            move.Add("g", import.GroupId).Add("now", now);
            await move.ExecuteNonQueryAsync(ct);
        }
        var before = replace ? [] : JsonSerializer.Deserialize<List<string>>(keysJson) ?? [];
        var variables = ImportMoveRequest.VariablesAfter(before, request.VariableNames);
        if (variables > request.MaxAttributeKeys)
        {
            return new ImportMoveOutcome.TooManyVariables(variables); // another import added variables meanwhile
        }
        var keys = await VariablesAfterMoveAsync(tx, import.GroupId, before, request.VariableNames, ct);
        await using (var update = Command(tx, """
            UPDATE "Groups" SET "RecipientCount" = @count, "AttributeKeysJson" = @keys, "LastImportAt" = @now, "UpdatedAt" = @now WHERE "Id" = @g
            """))
        {
            update.Add("g", import.GroupId).Add("count", total).Add("keys", JsonSerializer.Serialize(keys)).Add("now", now);
            await update.ExecuteNonQueryAsync(ct);
        }
        if (foldInMove)
        {
            await Recipients.Segments.PostgresSegmentStore.StampAsync(_connection, tx, import.GroupId, ct);
        }
        var figures = new ImportMoved(
            Imported: staged - existing,
            Updated: append ? 0 : existing,
            Duplicates: request.Counts.Duplicates + (append ? existing : 0),
            Total: total);
        await PostgresEngineStore.WriteImportReportAsync(_connection, tx, import.Id, request.Report, ct);
        await using (var done = Command(tx, """
            UPDATE "Imports" SET "Status" = 'COMPLETED', "RowsRead" = @rows, "BytesRead" = "Bytes", "Imported" = @imported, "Updated" = @updated,
                "Duplicates" = @dups, "Rejected" = @rejected, "Message" = @message, "CompletedAt" = @now
            WHERE "Id" = @id AND "Status" = 'PROCESSING'
            """))
        {
            done.Add("id", import.Id).Add("rows", request.Counts.RowsRead).Add("imported", figures.Imported).Add("updated", figures.Updated)
                .Add("dups", figures.Duplicates).Add("rejected", request.Counts.Rejected).Add("message", request.Describe(figures)).Add("now", now);
            if (await done.ExecuteNonQueryAsync(ct) == 0)
            {
                return new ImportMoveOutcome.AlreadyFinished();
            }
        }
        // The group's rows for segments, made in the same transaction when the move could not: COMPLETED means a count is ready too.
        await Recipients.Segments.PostgresSegmentStore.RefreshAsync(_connection, tx, [import.GroupId], ct);
        await tx.CommitAsync(ct);
        if (staged >= PostgresEngineStore.AnalyzeFrom)
        {
            await PostgresEngineStore.AnalyzeAsync(_connection, "\"Recipients\", \"SegmentValues\"", ct);
        }
        return new ImportMoveOutcome.Moved(figures);
    }

    /// <summary>
    /// The group's variables after the move: those of the file, and those of before that some recipient still has (an
    /// upsert replaces the variables of the rows it updates, so a column the file lacks may be left on no one).
    /// </summary>
    private async Task<List<string>> VariablesAfterMoveAsync(NpgsqlTransaction tx, long groupId, List<string> before, IReadOnlyList<string> variableNames, CancellationToken ct)
    {
        var keys = new List<string>(before.Count + variableNames.Count);
        foreach (var key in before)
        {
            if (variableNames.Contains(key, StringComparer.Ordinal))
            {
                keys.Add(key);
                continue;
            }
            // Stops at the first recipient that has it: a full scan only for a key no one has any more.
            await using var has = Command(tx, """SELECT EXISTS (SELECT 1 FROM "Recipients" WHERE "GroupId" = @g AND ("VariablesJson"::jsonb -> @key) IS NOT NULL)""");
            has.Add("g", groupId).Add("key", key);
            if ((bool)(await has.ExecuteScalarAsync(ct))!)
            {
                keys.Add(key);
            }
        }
        foreach (var name in variableNames)
        {
            if (!keys.Contains(name, StringComparer.Ordinal))
            {
                keys.Add(name);
            }
        }
        return keys;
    }

    /// <summary>The move's statements go over the whole stage and group: no command timeout (see <see cref="PostgresEngineStore.GroupSizedSql"/>).</summary>
    private NpgsqlCommand Command(NpgsqlTransaction tx, string sql) => PostgresEngineStore.GroupSizedSql(_connection, tx, sql);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_copy is not null)
            {
                await _copy.DisposeAsync(); // a COPY not completed is cancelled: its rows are not kept
            }
            // Pooled connections live on: the staged rows must not.
            await using var drop = PostgresEngineStore.ImportSql(_connection, null, "DROP TABLE IF EXISTS import_stage");
            await drop.ExecuteNonQueryAsync(CancellationToken.None);
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }
}
