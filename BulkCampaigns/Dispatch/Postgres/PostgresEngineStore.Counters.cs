using BulkCampaigns.Operations;
using Npgsql;
using OperationStatus = BulkCampaigns.Operations.OperationStatus;

namespace BulkCampaigns.Dispatch.Postgres;

/// <summary>The operations' counters: written with every status change, summed for the metrics.</summary>
public sealed partial class PostgresEngineStore
{
    private static readonly string SumMessagesSql =
        $"""SELECT {string.Join(", ", Enum.GetValues<MessageStatus>().Select(s => $"COALESCE(sum(\"{StatsDelta.Column(s)}\"), 0)::bigint"))} FROM "Operations" """;

    private const string SumImportRowsSql = """
        SELECT COALESCE(sum("Imported"), 0)::bigint, COALESCE(sum("Updated"), 0)::bigint, COALESCE(sum("Duplicates"), 0)::bigint, COALESCE(sum("Rejected"), 0)::bigint
        FROM "Imports"
        """;

    private const string GroupInUseSql = """
        SELECT EXISTS (SELECT 1 FROM "OperationGroups" og JOIN "Operations" o ON o."Id" = og."OperationId"
                       WHERE og."GroupId" = @group AND o."Status" = ANY(@live))
        """;

    public long[] SumMessageCounters() => SumRow(SumMessagesSql);

    public long[] SumImportRows() => SumRow(SumImportRowsSql);

    /// <summary>One row of sums. These are small tables; the caller (the metrics exporter) is synchronous.</summary>
    private long[] SumRow(string sql)
    {
        using var connection = dataSource.OpenConnection();
        using var command = Sql(connection, null, sql);
        using var reader = command.ExecuteReader();
        reader.Read();
        var values = new long[reader.FieldCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.GetInt64(i);
        }
        return values;
    }

    public async Task<bool> IsGroupInUseAsync(long groupId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = Sql(connection, null, GroupInUseSql);
        command.Add("group", groupId)
            .Add("live", new[] { (int)OperationStatus.Scheduled, (int)OperationStatus.Processing, (int)OperationStatus.Paused });
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }
}

/// <summary>Writes <see cref="StatsDelta"/>s to their operations' counter columns, inside the caller's transaction.</summary>
internal static class PostgresCounters
{
    /// <summary>One per counter column: HELD counts in SCHEDULED's (<see cref="StatsDelta.Counted"/>).</summary>
    private static readonly MessageStatus[] Statuses = Enum.GetValues<MessageStatus>().Where(s => StatsDelta.Counted(s) == s).ToArray();

    /// <summary>
    /// Every operation's changes in one statement, one array per counter column. It answers each operation's status
    /// as the row holds it now (locked until the commit).
    /// </summary>
    private static readonly string ApplySql = $"""
        UPDATE "Operations" o SET "UpdatedAt" = @now, "Attempts" = o."Attempts" + d.attempts,
            {string.Join(", ", Statuses.Select(s => $"\"{StatsDelta.Column(s)}\" = o.\"{StatsDelta.Column(s)}\" + d.c{(int)s}"))}
        FROM unnest(@ops, @attempts, {string.Join(", ", Statuses.Select(s => $"@c{(int)s}"))})
            AS d(op, attempts, {string.Join(", ", Statuses.Select(s => $"c{(int)s}"))})
        WHERE o."Id" = d.op
        RETURNING o."Id", o."Status"
        """;

    /// <summary>Locks the operations' rows in ID order first, so two writers of the same operations never wait on each other in a circle.</summary>
    private const string LockSql = """
        SELECT 1 FROM "Operations" WHERE "Id" = ANY(@ops) ORDER BY "Id" FOR NO KEY UPDATE
        """;


    public static async Task<Dictionary<long, OperationStatus>> ApplyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyDictionary<long, StatsDelta> deltas, long nowMs, CancellationToken ct)
    {
        var changed = deltas.Where(d => !d.Value.IsEmpty).OrderBy(d => d.Key).ToList();
        var statuses = new Dictionary<long, OperationStatus>(changed.Count);
        if (changed.Count == 0)
        {
            return statuses;
        }
        var ops = changed.Select(d => d.Key).ToArray();
        if (ops.Length > 1)
        {
            await using var lockRows = new NpgsqlCommand(LockSql, connection, transaction);
            lockRows.Add("ops", ops);
            await lockRows.ExecuteNonQueryAsync(ct);
        }
        var columns = Statuses.Select(_ => new long[ops.Length]).ToArray();
        for (var i = 0; i < changed.Count; i++)
        {
            foreach (var (status, change) in changed[i].Value.Changes())
            {
                columns[(int)status][i] = change;
            }
        }
        await using var command = new NpgsqlCommand(ApplySql, connection, transaction);
        command.Add("now", nowMs).Add("ops", ops).Add("attempts", changed.Select(d => d.Value.Attempts).ToArray());
        foreach (var status in Statuses)
        {
            command.Add($"c{(int)status}", columns[(int)status]);
        }
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            statuses[reader.GetInt64(0)] = (OperationStatus)reader.GetInt32(1);
        }
        return statuses;
    }
}
