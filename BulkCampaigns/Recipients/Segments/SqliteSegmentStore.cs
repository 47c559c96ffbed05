using System.Globalization;
using System.Text.Json;
using BulkCampaigns.Data;
using BulkCampaigns.Operations;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Recipients.Segments;

/// <summary>One matching recipient, as the segment's list and the builder's sample show it.</summary>
public sealed record SegmentMember(long Key, string Id, string Address, string Channel, IReadOnlyDictionary<string, string> Variables, DateTimeOffset CreatedAt);

/// <summary>
/// Every SQL statement of segments on SQLite: keeping the recipients' folded variables (<c>Recipients.Folded</c>) in
/// step with the groups, counting, listing, and the rows an operation's messages are made from. The import writes each
/// recipient's fold with its row; a group from before that layout is folded in place the first time it is read.
/// <see cref="PostgresSegmentStore"/> is PostgreSQL's.
/// </summary>
/// <param name="countInPartsFrom">The group size from which a count runs in parts on every core (tests lower it).</param>
public sealed class SqliteSegmentStore(DatabaseConnection database, WriteGate gate, long countInPartsFrom = SqliteSegmentStore.CountInPartsFrom) : ISegmentStore
{
    public const string FoldFunction = "bc_fold_values";

    public SegmentSql Sql => SqliteSegmentSql.Instance;

    /// <summary>Groups in the list (all groups when empty) whose folded variables are older than their last import.</summary>
    private static string StaleSql(IReadOnlyCollection<long> groupIds) => $"""
        SELECT g.Id FROM Groups g LEFT JOIN SegmentStamps s ON s.GroupId = g.Id
        WHERE {GroupList("g.Id", groupIds)} AND (s.GroupId IS NULL OR s.Stamp IS NOT g.LastImportAt)
        """;

    internal static string GroupList(string column, IReadOnlyCollection<long> groupIds) =>
        groupIds.Count == 0 ? "1 = 1" : $"{column} IN ({string.Join(", ", groupIds.Select(g => g.ToString(CultureInfo.InvariantCulture)))})";

    /// <summary>Makes sure the groups' folded values match their last import, rebuilding (under the writer) those that don't.</summary>
    public async Task EnsureFreshAsync(IReadOnlyCollection<long> groupIds, CancellationToken ct)
    {
        await using (var connection = await database.OpenAsync(ct))
        {
            if ((await StaleAsync(connection, null, groupIds, ct)).Count == 0)
            {
                return;
            }
        }
        using var writer = await gate.EnterAsync(ct);
        await using var tx = writer.Connection.BeginTransaction();
        await RefreshAsync(writer.Connection, tx, groupIds, ct);
        await tx.CommitAsync(ct);
    }

    private static async Task<List<long>> StaleAsync(SqliteConnection connection, SqliteTransaction? tx, IReadOnlyCollection<long> groupIds, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = StaleSql(groupIds);
        var stale = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            stale.Add(reader.GetInt64(0));
        }
        return stale;
    }

    /// <summary>
    /// Folds the stale groups' recipients in place inside the caller's write transaction: an import's move (the import's
    /// own <c>BEGIN IMMEDIATE</c>, no transaction object) and an operation's insert, so a launch reads exactly what its
    /// groups hold at that moment. Imports write the fold with each row and stamp their group, so this rewrites a group
    /// only once, when it comes from before that layout. Costs one pass over each such group.
    /// </summary>
    public static async Task RefreshAsync(SqliteConnection connection, SqliteTransaction? tx, IReadOnlyCollection<long> groupIds, CancellationToken ct)
    {
        var stale = await StaleAsync(connection, tx, groupIds, ct);
        if (stale.Count == 0)
        {
            return;
        }
        SqliteJsonbFold.Register(connection, FoldFunction);
        foreach (var groupId in stale)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = $"UPDATE Recipients SET Folded = jsonb({FoldFunction}(VariablesJson)) WHERE GroupId = $g;";
            command.Parameters.AddWithValue("$g", groupId);
            command.CommandTimeout = 600;
            await command.ExecuteNonQueryAsync(ct);
            await StampAsync(connection, tx, groupId, ct);
        }
    }

    /// <summary>Records that the group's folded variables match its last import.</summary>
    public static async Task StampAsync(SqliteConnection connection, SqliteTransaction? tx, long groupId, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "INSERT OR REPLACE INTO SegmentStamps (GroupId, Stamp) SELECT Id, LastImportAt FROM Groups WHERE Id = $g";
        command.Parameters.AddWithValue("$g", groupId);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Distinct matching addresses, and how many of them are suppressed.</summary>
    public async Task<(long Count, long Suppressed)> CountAsync(IReadOnlyCollection<long> groupIds, CompiledFilter filter, CancellationToken ct)
    {
        await EnsureFreshAsync(groupIds, ct);
        if (groupIds.Count != 1)
        {
            return await CountPartAsync(groupIds, filter, null, ct);
        }
        // One group (an address is once in it, so parts add up): a large one that is most of the table is counted in
        // rowid ranges on every core, each on its own connection and so its own snapshot (a count taken while an import
        // commits may add up parts from before and after it; a launch reads its recipients in one transaction).
        var parts = await PartsAsync(groupIds.First(), ct);
        var counts = await Task.WhenAll(parts.Select(range => CountPartAsync(groupIds, filter, range, ct)));
        return (counts.Sum(c => c.Count), counts.Sum(c => c.Suppressed));
    }

    /// <summary>Below this many recipients a count is one statement: splitting costs more than it saves.</summary>
    public const long CountInPartsFrom = 200_000;

    /// <summary>
    /// Rowid ranges over the whole table to count a group in, one per core (up to 4), when the group has at least
    /// <see cref="CountInPartsFrom"/> recipients and is at least half of the table (each range scans every group's rows
    /// in it); otherwise one unbounded part.
    /// </summary>
    internal async Task<List<(long From, long To)?>> PartsAsync(long groupId, CancellationToken ct)
    {
        var cores = Math.Clamp(Environment.ProcessorCount, 1, 4);
        if (cores > 1)
        {
            await using var connection = await database.OpenAsync(ct);
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT g.RecipientCount, (SELECT TOTAL(RecipientCount) FROM Groups), (SELECT MIN(Id) FROM Recipients), (SELECT MAX(Id) FROM Recipients)
                FROM Groups g WHERE g.Id = $g
                """;
            command.Parameters.AddWithValue("$g", groupId);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct) && !reader.IsDBNull(2))
            {
                long count = reader.GetInt64(0), first = reader.GetInt64(2), last = reader.GetInt64(3);
                if (count >= countInPartsFrom && count * 2 >= reader.GetDouble(1))
                {
                    var size = (last - first) / cores + 1;
                    return Enumerable.Range(0, cores)
                        .Select(i => ((long From, long To)?)(first + i * size, i == cores - 1 ? last : first + (i + 1) * size - 1)).ToList();
                }
            }
        }
        return [null];
    }

    /// <summary>The count over the groups, or over one rowid range of the table (read by the rowid, no index).</summary>
    private async Task<(long Count, long Suppressed)> CountPartAsync(IReadOnlyCollection<long> groupIds, CompiledFilter filter, (long From, long To)? range, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        var rows = range is null
            ? $"Recipients d WHERE {GroupList("d.GroupId", groupIds)}"
            : $"Recipients d NOT INDEXED WHERE d.Id BETWEEN $from AND $to AND {GroupList("d.GroupId", groupIds)}";
        var source = Matching(rows, filter, "d.Address");
        // An address is once per group, so one group needs no DISTINCT (which would sort a million addresses).
        command.CommandText = groupIds.Count == 1
            ? $"SELECT COUNT(*), COALESCE(SUM(d.Address IN (SELECT Address FROM Suppressions)), 0) FROM {source}"
            : $"SELECT COUNT(DISTINCT d.Address), COUNT(DISTINCT CASE WHEN d.Address IN (SELECT Address FROM Suppressions) THEN d.Address END) FROM {source}";
        Bind(command, filter);
        if (range is { } r)
        {
            command.Parameters.AddWithValue("$from", r.From);
            command.Parameters.AddWithValue("$to", r.To);
        }
        command.CommandTimeout = 120;
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>A page of matching recipients in recipient order after <paramref name="afterKey"/> (an address in two groups shows once per group).</summary>
    public async Task<List<SegmentMember>> PageAsync(IReadOnlyCollection<long> groupIds, CompiledFilter filter, long afterKey, int take, CancellationToken ct)
    {
        await EnsureFreshAsync(groupIds, ct);
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT d.Id, d.Address, d.Channel, d.VariablesJson, d.CreatedAt
            FROM Recipients d
            WHERE d.Id > $after AND {GroupList("d.GroupId", groupIds)} AND {filter.Where}
            ORDER BY d.Id LIMIT $take
            """;
        Bind(command, filter);
        command.Parameters.AddWithValue("$after", afterKey);
        command.Parameters.AddWithValue("$take", take);
        var list = new List<SegmentMember>(take);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new SegmentMember(reader.GetInt64(0), PublicId.Encode(PublicId.Recipient, reader.GetInt64(0)), reader.GetString(1), reader.GetString(2),
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(3)) ?? [], reader.GetDateTimeOffset(4)));
        }
        return list;
    }

    /// <summary>The most common values of a variable (as written, up to <paramref name="take"/>), from a sample of the groups' recipients.</summary>
    public async Task<List<(string Value, long Count)>> TopValuesAsync(IReadOnlyCollection<long> groupIds, string variable, int take, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        var value = variable.Contains('"', StringComparison.Ordinal)
            ? "(SELECT j.value FROM json_each(r.VariablesJson) j WHERE j.key = $var)"
            : "(r.VariablesJson ->> $path)";
        // A sample keeps the suggestion instant on a million rows; the common values are common in it too.
        command.CommandText = $"""
            SELECT v, COUNT(*) FROM (SELECT {value} AS v FROM Recipients r WHERE {GroupList("r.GroupId", groupIds)} LIMIT 20000)
            WHERE v IS NOT NULL AND v <> '' GROUP BY v ORDER BY COUNT(*) DESC, v LIMIT $take
            """;
        command.Parameters.AddWithValue("$var", variable);
        command.Parameters.AddWithValue("$path", "$.\"" + variable + "\"");
        command.Parameters.AddWithValue("$take", take);
        var list = new List<(string, long)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add((reader.GetValue(0).ToString() ?? "", reader.GetInt64(1)));
        }
        return list;
    }

    /// <summary>
    /// The operation hook: inserts the segment's recipients as the operation's messages, inside the operation's
    /// insert transaction (so it is evaluated once, at launch). The caller's <paramref name="status"/> is the
    /// messages' first status; suppressed addresses get SUPPRESSED. Returns the rows inserted.
    /// </summary>
    public static async Task<long> InsertMessagesAsync(SqliteConnection connection, SqliteTransaction tx, long operationId, long segmentId,
        IReadOnlyCollection<long> groupIds, CompiledFilter filter, MessageStatus status, long nowMs, CancellationToken ct)
    {
        await RefreshAsync(connection, tx, groupIds, ct);
        await using (var link = connection.CreateCommand())
        {
            link.Transaction = tx;
            link.CommandText = "INSERT OR IGNORE INTO OperationSegments (OperationId, SegmentId) VALUES ($op, $seg)";
            link.Parameters.AddWithValue("$op", operationId);
            link.Parameters.AddWithValue("$seg", segmentId);
            await link.ExecuteNonQueryAsync(ct);
        }
        // The recipients' own rows hold the folded variables: one pass over the groups, no join.
        var source = Matching($"Recipients d WHERE {GroupList("d.GroupId", groupIds)}", filter, "d.Id, d.Address, d.Channel, d.VariablesJson");
        // Several groups are put in recipient order, so an address in two of them takes the earlier recipient's
        // variables. One group needs no order: an address is once in it, so no row takes another's place (sorting held
        // every match with its variables in a sorter).
        var order = groupIds.Count == 1 ? "" : "ORDER BY d.Id";
        await using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = $"""
            INSERT OR IGNORE INTO Messages (OperationId, Address, Channel, VariablesJson, Status, Segments, Attempts, Retryable, CreatedAt, UpdatedAt)
            SELECT $op, d.Address, d.Channel, d.VariablesJson,
                   CASE WHEN EXISTS (SELECT 1 FROM Suppressions s WHERE s.Address = d.Address) THEN {(int)MessageStatus.Suppressed} ELSE $status END,
                   0, 0, 0, $now, $now
            FROM {source}
            {order}
            """;
        Bind(insert, filter);
        insert.Parameters.AddWithValue("$op", operationId);
        insert.Parameters.AddWithValue("$status", (int)status);
        insert.Parameters.AddWithValue("$now", nowMs);
        insert.CommandTimeout = 600;
        return await insert.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The matching rows of <paramref name="rows"/> (<c>Recipients d WHERE …</c>) as a FROM source with its WHERE, the
    /// statement reading <paramref name="columns"/>. Hoisted variables are read once per row by a subquery that LIMIT
    /// keeps from being flattened into the statement (flattened, every test would read its variable from the JSONB
    /// again; see Recipients/README.md).
    /// </summary>
    private static string Matching(string rows, CompiledFilter filter, string columns) => filter.Columns.Count == 0
        ? $"{rows} AND {filter.Where}"
        : $"(SELECT {columns}, {string.Join(", ", filter.Columns)} FROM {rows} LIMIT -1) d WHERE {filter.Where}";

    private static void Bind(SqliteCommand command, CompiledFilter filter)
    {
        foreach (var (name, value) in filter.Parameters)
        {
            command.Parameters.AddWithValue("$" + name, value);
        }
    }
}
