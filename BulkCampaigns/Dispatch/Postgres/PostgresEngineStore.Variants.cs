using BulkCampaigns.Operations;
using OperationStatus = BulkCampaigns.Operations.OperationStatus;

namespace BulkCampaigns.Dispatch.Postgres;

/// <summary>An A/B test's decision; the split itself is written with the messages (<c>PostgresEngineStore.Creation.cs</c>).</summary>
public sealed partial class PostgresEngineStore
{
    private const string DecideSql = """
        UPDATE "Operations" SET "WinnerJson" = @winner, "UpdatedAt" = @now
        WHERE "Id" = @op AND "DecideAt" IS NOT NULL AND "WinnerJson" IS NULL
        """;

    private const string ReleaseHeldSql = """
        UPDATE "Messages" SET "Status" = @to, "Variant" = @variant, "UpdatedAt" = @now WHERE "OperationId" = @op AND "Status" = @held
        """;

    public async Task<long?> DecideWinnerAsync(long operationId, int winner, string winnerJson, long now, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // The operation's row first, as every change of its messages and counters does (a cancel can't slip in between).
        if (await LockOperationAsync(connection, tx, operationId, ct) is not { } status)
        {
            return null;
        }
        await using (var decide = Sql(connection, tx, DecideSql))
        {
            decide.Add("op", operationId).Add("winner", winnerJson).Add("now", now);
            if (await decide.ExecuteNonQueryAsync(ct) == 0)
            {
                return null;
            }
        }
        var to = VariantDecision.HeldGoTo(status);
        long moved;
        await using (var release = Sql(connection, tx, ReleaseHeldSql))
        {
            release.Add("to", to).Add("variant", winner).Add("now", now).Add("op", operationId).Add("held", MessageStatus.Held);
            moved = await release.ExecuteNonQueryAsync(ct);
        }
        var delta = new StatsDelta();
        delta.Move(MessageStatus.Held, to, moved);
        await PostgresCounters.ApplyAsync(connection, tx, new Dictionary<long, StatsDelta> { [operationId] = delta }, now, ct);
        await tx.CommitAsync(ct);
        return moved;
    }

    private const string CountClickedSql = """
        SELECT "Variant", count(*) FROM "Messages"
        WHERE "OperationId" = @op AND "ClickedAt" IS NOT NULL AND "Variant" IS NOT NULL GROUP BY "Variant"
        """;

    /// <summary>Messages of each variant clicked at least once (a first click sets <c>ClickedAt</c>, <c>PostgresEngineStore.Links.cs</c>).</summary>
    public async Task<IReadOnlyDictionary<int, long>> CountClickedByVariantAsync(long operationId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var count = Sql(connection, null, CountClickedSql);
        count.Add("op", operationId);
        var clicked = new Dictionary<int, long>();
        await using var reader = await count.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            clicked[reader.GetInt32(0)] = reader.GetInt64(1);
        }
        return clicked;
    }
}
