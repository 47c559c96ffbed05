using BulkCampaigns.Operations;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// Counter changes of one operation, applied in the same transaction as the message updates that
/// caused them, so the stats always add up to the total.
/// </summary>
public sealed class StatsDelta
{
    private readonly long[] _counts = new long[11];

    public long Attempts { get; set; }

    public bool IsEmpty => Attempts == 0 && _counts.All(c => c == 0);

    public void Move(MessageStatus from, MessageStatus to, long count = 1)
    {
        _counts[(int)from] -= count;
        _counts[(int)to] += count;
    }

    public static string Column(MessageStatus status) => status switch
    {
        MessageStatus.Scheduled => "Scheduled",
        MessageStatus.Queued => "Queued",
        MessageStatus.Sending => "Sending",
        MessageStatus.Sent => "Sent",
        MessageStatus.Delivered => "Delivered",
        MessageStatus.Read => "Read",
        MessageStatus.Undelivered => "Undelivered",
        MessageStatus.Unaddressable => "Unaddressable",
        MessageStatus.Failed => "Failed",
        MessageStatus.Canceled => "Canceled",
        MessageStatus.Suppressed => "Suppressed",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public async Task ApplyAsync(SqliteConnection connection, SqliteTransaction transaction, long operationId, long nowMs, CancellationToken ct = default)
    {
        if (IsEmpty)
        {
            return;
        }
        var sql = new StringBuilder("UPDATE Operations SET UpdatedAt = $now, Attempts = Attempts + $attempts");
        for (var i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] != 0)
            {
                var column = Column((MessageStatus)i);
                sql.Append(CultureInfo.InvariantCulture, $", {column} = {column} + ({_counts[i]})");
            }
        }
        sql.Append(" WHERE Id = $id");
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql.ToString();
        command.Parameters.AddWithValue("$now", nowMs);
        command.Parameters.AddWithValue("$attempts", Attempts);
        command.Parameters.AddWithValue("$id", operationId);
        await command.ExecuteNonQueryAsync(ct);
    }
}
