using System.Globalization;
using System.Text;
using BulkCampaigns.Operations;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Dispatch.Sqlite;

/// <summary>The operations' counters: written with every status change, summed for the metrics.</summary>
public sealed partial class SqliteEngineStore
{
    private static readonly string SumMessagesSql =
        $"SELECT {string.Join(", ", Enum.GetValues<MessageStatus>().Select(s => $"SUM({StatsDelta.Column(s)})"))} FROM Operations";

    private static readonly string GroupInUseSql = $"""
        SELECT EXISTS (SELECT 1 FROM OperationGroups og JOIN Operations o ON o.Id = og.OperationId
                       WHERE og.GroupId = $g AND o.Status IN ({OperationScheduled}, {Processing}, {(int)OperationStatus.Paused}))
        """;

    public long[] SumMessageCounters() => SumRow(SumMessagesSql);

    public long[] SumImportRows() => SumRow("SELECT SUM(Imported), SUM(Updated), SUM(Duplicates), SUM(Rejected) FROM Imports");

    /// <summary>One row of sums (a sum over no rows is 0). These are small tables; the caller is synchronous.</summary>
    private long[] SumRow(string sql)
    {
        using var connection = new SqliteConnection(database.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        reader.Read();
        var values = new long[reader.FieldCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.IsDBNull(i) ? 0 : reader.GetInt64(i);
        }
        return values;
    }

    public async Task<bool> IsGroupInUseAsync(long groupId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = GroupInUseSql;
        command.Parameters.AddWithValue("$g", groupId);
        return (long)(await command.ExecuteScalarAsync(ct))! == 1;
    }
}

/// <summary>Writes a <see cref="StatsDelta"/> to its operation's counter columns, inside the caller's transaction.</summary>
internal static class SqliteCounters
{

    public static async Task ApplyAsync(this StatsDelta delta, SqliteConnection connection, SqliteTransaction transaction, long operationId, long nowMs, CancellationToken ct = default)
    {
        if (delta.IsEmpty)
        {
            return;
        }
        var sql = new StringBuilder("UPDATE Operations SET UpdatedAt = $now, Attempts = Attempts + $attempts");
        foreach (var (status, change) in delta.Changes())
        {
            var column = StatsDelta.Column(status);
            sql.Append(CultureInfo.InvariantCulture, $", {column} = {column} + ({change})");
        }
        sql.Append(" WHERE Id = $id");
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql.ToString();
        command.Parameters.AddWithValue("$now", nowMs);
        command.Parameters.AddWithValue("$attempts", delta.Attempts);
        command.Parameters.AddWithValue("$id", operationId);
        await command.ExecuteNonQueryAsync(ct);
    }
}
