using BulkCampaigns.Operations;

namespace BulkCampaigns.Dispatch.Sqlite;

/// <summary>An A/B test's decision; the split itself is written with the messages (<c>SqliteEngineStore.Creation.cs</c>).</summary>
public sealed partial class SqliteEngineStore
{
    private const string DecideSql = """
        UPDATE Operations SET WinnerJson = $winner, UpdatedAt = $now
        WHERE Id = $op AND DecideAt IS NOT NULL AND WinnerJson IS NULL
        RETURNING Status
        """;

    private static readonly string ReleaseHeldSql = $"UPDATE Messages SET Status = $to, Variant = $variant, UpdatedAt = $now WHERE OperationId = $op AND Status = {(int)MessageStatus.Held}";

    public async Task<long?> DecideWinnerAsync(long operationId, int winner, string winnerJson, long now, CancellationToken ct)
    {
        using var writer = await gate.EnterAsync(ct);
        var connection = writer.Connection;
        await using var tx = connection.BeginTransaction();
        OperationStatus status;
        await using (var decide = connection.CreateCommand())
        {
            decide.Transaction = tx;
            decide.CommandText = DecideSql;
            decide.Parameters.AddWithValue("$op", operationId);
            decide.Parameters.AddWithValue("$winner", winnerJson);
            decide.Parameters.AddWithValue("$now", now);
            if (await decide.ExecuteScalarAsync(ct) is not long read)
            {
                return null;
            }
            status = (OperationStatus)read;
        }
        var to = VariantDecision.HeldGoTo(status);
        await using var release = connection.CreateCommand();
        release.Transaction = tx;
        release.CommandText = ReleaseHeldSql;
        release.Parameters.AddWithValue("$to", (int)to);
        release.Parameters.AddWithValue("$variant", winner);
        release.Parameters.AddWithValue("$now", now);
        release.Parameters.AddWithValue("$op", operationId);
        var moved = await release.ExecuteNonQueryAsync(ct);
        var delta = new StatsDelta();
        delta.Move(MessageStatus.Held, to, moved);
        await delta.ApplyAsync(connection, tx, operationId, now, ct);
        await tx.CommitAsync(ct);
        return moved;
    }

    /// <summary>Messages of each variant clicked at least once (a first click sets <c>ClickedAt</c>, <c>SqliteEngineStore.Links.cs</c>).</summary>
    public async Task<IReadOnlyDictionary<int, long>> CountClickedByVariantAsync(long operationId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT Variant, COUNT(*) FROM Messages WHERE OperationId = $op AND ClickedAt IS NOT NULL AND Variant IS NOT NULL GROUP BY Variant";
        count.Parameters.AddWithValue("$op", operationId);
        var clicked = new Dictionary<int, long>();
        await using var reader = await count.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            clicked[reader.GetInt32(0)] = reader.GetInt64(1);
        }
        return clicked;
    }
}
