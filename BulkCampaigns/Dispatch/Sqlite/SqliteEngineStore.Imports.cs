using System.Globalization;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Data;
using BulkCampaigns.Recipients;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace BulkCampaigns.Dispatch.Sqlite;

/// <summary>
/// The import's statements on SQLite. They use connections of their own, not the dispatch writer: an import stages
/// on its own connection for seconds, and its short writes (progress, the move) wait on SQLite's busy timeout.
/// </summary>
public sealed partial class SqliteEngineStore
{
    public async Task<ImportJobSettings?> StartImportAsync(long importId, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
        ImportJobSettings? row = null;
        await using (var select = ImportCommand(connection, tx, "SELECT GroupId, Mode, DefaultRegion, AddressColumn, ChannelColumn, StoredFile FROM Imports WHERE Id = $id AND Status = 'PROCESSING'", ("$id", importId)))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
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
        await using (var clear = ImportCommand(connection, tx, "DELETE FROM ImportErrors WHERE ImportId = $id; DELETE FROM ImportDuplicates WHERE ImportId = $id;", ("$id", importId)))
        {
            await clear.ExecuteNonQueryAsync(ct);
        }
        await using (var update = ImportCommand(connection, tx,
            "UPDATE Imports SET Attempts = Attempts + 1, StartedAt = $now, RowsRead = 0, BytesRead = 0, Imported = 0, Updated = 0, Duplicates = 0, Rejected = 0 WHERE Id = $id",
            ("$id", importId), ("$now", now)))
        {
            await update.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return row;
    }

    public async Task<List<string>> GroupVariablesAsync(long groupId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = ImportCommand(connection, null, "SELECT AttributeKeysJson FROM Groups WHERE Id = $g", ("$g", groupId));
        return await command.ExecuteScalarAsync(ct) is string json ? JsonSerializer.Deserialize<List<string>>(json) ?? [] : [];
    }

    public async Task<IImportStaging> OpenImportStagingAsync(CancellationToken ct)
    {
        var connection = await database.OpenAsync(ct);
        try
        {
            return await SqliteImportStaging.CreateAsync(connection, ct);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task SaveImportProgressAsync(long importId, ImportCounts counts, ImportReport report, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
        await WriteReportAsync(connection, tx, importId, report, ct);
        await using (var update = ImportCommand(connection, tx,
            "UPDATE Imports SET RowsRead = $rows, BytesRead = $bytes, Imported = $distinct, Duplicates = $dups, Rejected = $rejected WHERE Id = $id AND Status = 'PROCESSING'",
            ("$id", importId), ("$rows", counts.RowsRead), ("$bytes", counts.BytesRead), ("$distinct", counts.Distinct), ("$dups", counts.Duplicates), ("$rejected", counts.Rejected)))
        {
            await update.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    public async Task FailImportAsync(long importId, string message, ImportCounts counts, ImportReport report, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
        await WriteReportAsync(connection, tx, importId, report, ct);
        await using (var update = ImportCommand(connection, tx,
            "UPDATE Imports SET Status = 'FAILED', Message = $message, RowsRead = $rows, BytesRead = $bytes, Imported = 0, Updated = 0, Duplicates = $dups, Rejected = $rejected, CompletedAt = $now WHERE Id = $id AND Status = 'PROCESSING'",
            ("$id", importId), ("$message", message), ("$rows", counts.RowsRead), ("$bytes", counts.BytesRead), ("$dups", counts.Duplicates),
            ("$rejected", counts.Rejected), ("$now", now)))
        {
            await update.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>Writes the report's pending rejected and merged rows, then clears them.</summary>
    internal static async Task WriteReportAsync(SqliteConnection connection, SqliteTransaction? tx, long importId, ImportReport report, CancellationToken ct)
    {
        if (report.Rejected.Count > 0)
        {
            await using var insert = ImportCommand(connection, tx, "INSERT INTO ImportErrors (ImportId, Row, Line, Column, Value, Reason) VALUES ($id, $row, $line, $column, $value, $reason)",
                ("$id", importId), ("$row", 0L), ("$line", 0L), ("$column", DBNull.Value), ("$value", DBNull.Value), ("$reason", ""));
            foreach (var e in report.Rejected)
            {
                insert.Parameters["$row"].Value = e.Row;
                insert.Parameters["$line"].Value = e.Line;
                insert.Parameters["$column"].Value = (object?)e.Column ?? DBNull.Value;
                insert.Parameters["$value"].Value = e.Value is null ? DBNull.Value : e.Value.Length > 1000 ? e.Value[..1000] : e.Value;
                insert.Parameters["$reason"].Value = e.Reason;
                await insert.ExecuteNonQueryAsync(ct);
            }
        }
        if (report.Merged.Count > 0)
        {
            await using var insert = ImportCommand(connection, tx, "INSERT INTO ImportDuplicates (ImportId, Row, Line, Address, FirstRow) VALUES ($id, $row, $line, $address, $first)",
                ("$id", importId), ("$row", 0L), ("$line", 0L), ("$address", ""), ("$first", 0L));
            foreach (var d in report.Merged)
            {
                insert.Parameters["$row"].Value = d.Row;
                insert.Parameters["$line"].Value = d.Line;
                insert.Parameters["$address"].Value = "+" + d.Key.ToString(CultureInfo.InvariantCulture);
                insert.Parameters["$first"].Value = d.FirstRow;
                await insert.ExecuteNonQueryAsync(ct);
            }
        }
        report.Clear();
    }

    internal static SqliteCommand ImportCommand(SqliteConnection connection, SqliteTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }
}

/// <summary>
/// One import's stage: an append-only TEMP table of its own connection, so staging takes no lock on the main database.
/// The stage is in file order: a table keyed by address took random B-tree inserts that spilled out of the page cache
/// (most of the time of a 1M-row import). Duplicates are merged when the rows are moved in address order.
/// </summary>
internal sealed class SqliteImportStaging : IImportStaging
{
    private const string Table = "temp.import_stage";

    private readonly SqliteConnection _connection;
    private readonly StagingInsert _insert;
    private SqliteTransaction? _tx;

    private SqliteImportStaging(SqliteConnection connection)
    {
        _connection = connection;
        _insert = new StagingInsert(connection, Table);
    }

    public static async Task<SqliteImportStaging> CreateAsync(SqliteConnection connection, CancellationToken ct)
    {
        await ExecuteAsync(connection, $"PRAGMA temp.cache_size = -4096; DROP TABLE IF EXISTS {Table}; CREATE TEMP TABLE import_stage (Key INTEGER NOT NULL, Channel TEXT NOT NULL, Vars TEXT NOT NULL, Folded BLOB NOT NULL);", ct);
        return new SqliteImportStaging(connection);
    }

    public ValueTask AddAsync(ReadOnlyMemory<ValidRecipient> rows, CancellationToken ct)
    {
        // Deferred: the transaction locks only the TEMP database it writes, never the main one (an IMMEDIATE
        // one would hold the main database's write lock for the whole read of the file).
        _tx ??= _connection.BeginTransaction(deferred: true);
        foreach (ref readonly var row in rows.Span)
        {
            _insert.Add(row);
        }
        return ValueTask.CompletedTask;
    }

    public ReadOnlyMemory<byte> Fold(in ValidRecipient row, ByteSlices bytes)
    {
        if (!Recipients.Segments.SqliteJsonbFold.TryFold(row.Json.Span, out var folded))
        {
            return default; // another shape: StagingInsert folds it as JSON text
        }
        folded.CopyTo(bytes.Reserve(folded.Length));
        return bytes.Take(folded.Length);
    }

    public async ValueTask CheckpointAsync(CancellationToken ct)
    {
        _insert.Flush();
        if (_tx is not null)
        {
            await _tx.CommitAsync(ct);
            await _tx.DisposeAsync();
            _tx = null;
        }
    }

    public async Task<ImportMoveOutcome> MoveAsync(ImportMoveRequest request, CancellationToken ct)
    {
        await CheckpointAsync(ct);
        var import = request.Import;
        var stage = _connection;
        var staged = request.Counts.Distinct;
        var now = request.Now;
        // The move sorts the staged rows by address, in runs as large as the main cache, then merges them. 8 MB
        // runs sorted faster than 32 MB ones (1.75 s against 2.0 s for the move of 1M rows, measured in sqlite3):
        // a run that fits the CPU's caches better outweighs the longer merge. The staging only appends.
        // Sorter threads sort those runs on every core (1.3-1.5 s against 1.85-2.0 s in sqlite3); with 32 MB runs
        // they had cost 60 MB more memory for no gain.
        await ExecuteAsync(stage, "PRAGMA cache_size = -8192;", ct);
        await ExecuteAsync(stage, $"PRAGMA threads = {Math.Clamp(Environment.ProcessorCount, 1, 4)};", ct);
        await ExecuteAsync(stage, "BEGIN IMMEDIATE;", ct);
        var committed = false;
        try
        {
            long groupCount;
            string keysJson;
            await using (var group = SqliteEngineStore.ImportCommand(stage, null, "SELECT RecipientCount, AttributeKeysJson FROM Groups WHERE Id = $g", ("$g", import.GroupId)))
            await using (var reader = await group.ExecuteReaderAsync(ct))
            {
                if (!await reader.ReadAsync(ct))
                {
                    return new ImportMoveOutcome.GroupGone();
                }
                groupCount = reader.GetInt64(0);
                keysJson = reader.GetString(1);
            }
            var replace = import.Mode == ImportMode.Replace;
            long existing = 0;
            if (!replace && groupCount > 0)
            {
                await using var count = SqliteEngineStore.ImportCommand(stage, null,
                    $"SELECT COUNT(*) FROM (SELECT DISTINCT Key FROM {Table}) s WHERE EXISTS (SELECT 1 FROM Recipients r WHERE r.GroupId = $g AND r.Address = '+' || s.Key)", ("$g", import.GroupId));
                existing = Convert.ToInt64(await count.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
            }
            var total = replace ? staged : groupCount + staged - existing;
            if (total > request.MaxRecipients)
            {
                return new ImportMoveOutcome.OverLimit(total);
            }
            if (replace)
            {
                await using var delete = SqliteEngineStore.ImportCommand(stage, null, "DELETE FROM Recipients WHERE GroupId = $g", ("$g", import.GroupId));
                await delete.ExecuteNonQueryAsync(ct);
            }
            // The group's recipients from before this layout get their folded variables first (once; a no-op after),
            // so that after the move every recipient of the group has them and the group can be stamped.
            await Recipients.Segments.SqliteSegmentStore.RefreshAsync(stage, null, [import.GroupId], ct);
            // Rows go in by address, then file order: on a conflict an upsert keeps the later row, an append the first.
            // Each row brings its folded variables from the stage (JSONB; JSON text for a shape the fold leaves to jsonb()).
            var onConflict = import.Mode == ImportMode.Append
                ? "ON CONFLICT(GroupId, Address) DO NOTHING"
                : "ON CONFLICT(GroupId, Address) DO UPDATE SET Channel = excluded.Channel, VariablesJson = excluded.VariablesJson, Folded = excluded.Folded";
            await using (var move = SqliteEngineStore.ImportCommand(stage, null,
                $"""
                INSERT INTO Recipients (GroupId, Address, Channel, VariablesJson, CreatedAt, Folded)
                SELECT $g, '+' || Key, Channel, Vars, $now, CASE WHEN typeof(Folded) = 'blob' THEN Folded ELSE jsonb(Folded) END
                FROM {Table} WHERE true ORDER BY Key, rowid {onConflict}
                """,
                ("$g", import.GroupId), ("$now", now)))
            {
                await move.ExecuteNonQueryAsync(ct);
            }
            var before = replace ? [] : JsonSerializer.Deserialize<List<string>>(keysJson) ?? [];
            var variables = ImportMoveRequest.VariablesAfter(before, request.VariableNames);
            if (variables > request.MaxAttributeKeys)
            {
                return new ImportMoveOutcome.TooManyVariables(variables); // another import added variables meanwhile
            }
            var keys = await VariablesAfterMoveAsync(stage, import.GroupId, before, request.VariableNames, ct);
            await using (var group = SqliteEngineStore.ImportCommand(stage, null,
                "UPDATE Groups SET RecipientCount = $count, AttributeKeysJson = $keys, LastImportAt = $now, UpdatedAt = $now WHERE Id = $g",
                ("$g", import.GroupId), ("$count", total), ("$keys", JsonSerializer.Serialize(keys)), ("$now", now)))
            {
                await group.ExecuteNonQueryAsync(ct);
            }
            var append = import.Mode == ImportMode.Append;
            var figures = new ImportMoved(
                Imported: staged - existing,
                Updated: append ? 0 : existing,
                Duplicates: request.Counts.Duplicates + (append ? existing : 0),
                Total: total);
            await SqliteEngineStore.WriteReportAsync(stage, null, import.Id, request.Report, ct);
            await using (var done = SqliteEngineStore.ImportCommand(stage, null,
                "UPDATE Imports SET Status = 'COMPLETED', RowsRead = $rows, BytesRead = Bytes, Imported = $imported, Updated = $updated, Duplicates = $dups, Rejected = $rejected, Message = $message, CompletedAt = $now WHERE Id = $id AND Status = 'PROCESSING'",
                ("$id", import.Id), ("$rows", request.Counts.RowsRead), ("$imported", figures.Imported), ("$updated", figures.Updated), ("$dups", figures.Duplicates),
                ("$rejected", request.Counts.Rejected), ("$message", request.Describe(figures)), ("$now", now)))
            {
                if (await done.ExecuteNonQueryAsync(ct) == 0)
                {
                    return new ImportMoveOutcome.AlreadyFinished();
                }
            }
            // Every recipient of the group now has its folded variables: COMPLETED means a count is ready too.
            await Recipients.Segments.SqliteSegmentStore.StampAsync(stage, null, import.GroupId, ct);
            await ExecuteAsync(stage, "COMMIT;", ct);
            committed = true;
            return new ImportMoveOutcome.Moved(figures);
        }
        finally
        {
            if (!committed)
            {
                await ExecuteAsync(stage, "ROLLBACK;", CancellationToken.None);
            }
            await ExecuteAsync(stage, "PRAGMA cache_size = -2000; PRAGMA threads = 0;", CancellationToken.None);
        }
    }

    /// <summary>
    /// The group's variables after the move: those of the file, and those of before that some recipient still has (an
    /// upsert replaces the variables of the rows it updates, so a column the file lacks may be left on no one).
    /// </summary>
    private static async Task<List<string>> VariablesAfterMoveAsync(SqliteConnection stage, long groupId, List<string> before, IReadOnlyList<string> variableNames, CancellationToken ct)
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
            // A JSON path can't quote a name holding a double quote; json_each reads any name, more slowly.
            await using var has = key.Contains('"', StringComparison.Ordinal)
                ? SqliteEngineStore.ImportCommand(stage, null, "SELECT EXISTS (SELECT 1 FROM Recipients r, json_each(r.VariablesJson) j WHERE r.GroupId = $g AND j.key = $key)", ("$g", groupId), ("$key", key))
                : SqliteEngineStore.ImportCommand(stage, null, "SELECT EXISTS (SELECT 1 FROM Recipients WHERE GroupId = $g AND json_type(VariablesJson, $path) IS NOT NULL)", ("$g", groupId), ("$path", "$.\"" + key + "\""));
            if (Convert.ToInt64(await has.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture) == 1)
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

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_tx is not null)
            {
                await _tx.DisposeAsync(); // rolls back what was not checkpointed
            }
            _insert.Dispose();
            // Pooled connections live on: the staged rows must not.
            await ExecuteAsync(_connection, $"DROP TABLE IF EXISTS {Table};", CancellationToken.None);
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken ct)
    {
        await using var command = SqliteEngineStore.ImportCommand(connection, null, sql);
        await command.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>
/// Appends rows to the staging table through SQLite's own API, <see cref="RowsPerStep"/> rows a statement
/// (positional parameters, so no name lookups): each step and reset costs more than binding a row. ADO.NET's
/// per-command overhead (a reader per execution, parameters bound by name) cost more than the insert itself.
/// Rows keep their order; <see cref="Flush"/> writes what is buffered.
/// </summary>
internal sealed class StagingInsert : IDisposable
{
    private const int RowsPerStep = 64;
    private const int Columns = 4;

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _one;
    private readonly sqlite3_stmt _many;
    private readonly ValidRecipient[] _buffer = new ValidRecipient[RowsPerStep];
    private int _buffered;

    public StagingInsert(SqliteConnection connection, string table)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        Check(raw.sqlite3_prepare_v2(_db, $"INSERT INTO {table} (Key, Channel, Vars, Folded) VALUES (?, ?, ?, ?)", out _one));
        var values = string.Join(", ", Enumerable.Repeat("(?, ?, ?, ?)", RowsPerStep));
        Check(raw.sqlite3_prepare_v2(_db, $"INSERT INTO {table} (Key, Channel, Vars, Folded) VALUES {values}", out _many));
    }

    public void Add(in ValidRecipient row)
    {
        _buffer[_buffered++] = row;
        if (_buffered == RowsPerStep)
        {
            for (var i = 0; i < RowsPerStep; i++)
            {
                Bind(_many, i * Columns, _buffer[i]);
            }
            Step(_many);
            _buffered = 0;
            Array.Clear(_buffer); // the rows' bytes belong to their batch: don't keep them alive past it
        }
    }

    public void Flush()
    {
        for (var i = 0; i < _buffered; i++)
        {
            Bind(_one, 0, _buffer[i]);
            Step(_one);
        }
        _buffered = 0;
        Array.Clear(_buffer);
    }

    private static void Bind(sqlite3_stmt statement, int offset, in ValidRecipient row)
    {
        raw.sqlite3_bind_int64(statement, offset + 1, row.Key);
        // UTF-8, as the database stores text: bound as UTF-16, SQLite converted every value on this one thread.
        raw.sqlite3_bind_text(statement, offset + 2, ChannelBytes(row.Channel));
        raw.sqlite3_bind_text(statement, offset + 3, row.Json.Span);
        // The variables folded for segments (SqliteImportStaging.Fold, on the validating cores), kept with the row
        // rather than made in a second pass over the group; a shape that fold leaves is folded here as JSON text.
        if (row.Folded.Length > 0)
        {
            raw.sqlite3_bind_blob(statement, offset + 4, row.Folded.Span);
        }
        else if (Recipients.Segments.SqliteJsonbFold.TryFold(row.Json.Span, out var folded))
        {
            raw.sqlite3_bind_blob(statement, offset + 4, folded);
        }
        else
        {
            raw.sqlite3_bind_text(statement, offset + 4, Recipients.Segments.TextFold.FoldValues(Encoding.UTF8.GetString(row.Json.Span)));
        }
    }

    private static readonly byte[] Phone = "PHONE"u8.ToArray();
    private static readonly byte[] Rcs = "RCS"u8.ToArray();
    private static readonly byte[] WhatsApp = "WHATSAPP"u8.ToArray();

    private static ReadOnlySpan<byte> ChannelBytes(string channel) => channel switch
    {
        "PHONE" => Phone,
        "RCS" => Rcs,
        "WHATSAPP" => WhatsApp,
        _ => Encoding.UTF8.GetBytes(channel),
    };

    private void Step(sqlite3_stmt statement)
    {
        var rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (rc != raw.SQLITE_DONE)
        {
            Check(rc);
        }
    }

    private void Check(int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE))
        {
            throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
        }
    }

    public void Dispose()
    {
        _one.Dispose();
        _many.Dispose();
    }
}
