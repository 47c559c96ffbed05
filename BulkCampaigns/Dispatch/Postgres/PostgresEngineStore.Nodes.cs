using Npgsql;

namespace BulkCampaigns.Dispatch.Postgres;

/// <summary>
/// Nodes on PostgreSQL, all on the server's clock. A node that registers retires an earlier process of its own name
/// (it was that node, and it is not running any more) and ends the leases of its claims at once, so its start settles
/// them; other nodes' claims are left to their own nodes, or to the sweep once their leases run out.
/// </summary>
public sealed partial class PostgresEngineStore
{
    /// <summary>Nodes not seen for this long are forgotten (their leases ran out long ago).</summary>
    private const long ForgetAfterMs = 24L * 3600 * 1000;

    public async Task<long> RegisterNodeAsync(string name, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = Sql(connection, null, $"""
            WITH retired AS (
                DELETE FROM "Nodes" WHERE "Name" = @name OR "LastSeenAt" < {DbNow} - @forget
                RETURNING "Id", "Name"),
            ended AS (
                UPDATE "ClaimedBatches" c SET "LeaseUntil" = 0 FROM retired r WHERE c."NodeId" = r."Id" AND r."Name" = @name)
            INSERT INTO "Nodes" ("Name", "StartedAt", "LastSeenAt") VALUES (@name, {DbNow}, {DbNow})
            RETURNING "Id"
            """);
        command.Add("name", name).Add("forget", ForgetAfterMs);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    public async Task<HashSet<long>> HeartbeatAsync(long nodeId, long[] claimIds, int leaseMs, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // A lease that ran out stays out: another node may be settling the claim with the provider right now.
        await using var command = Sql(connection, null, $"""
            WITH seen AS (UPDATE "Nodes" SET "LastSeenAt" = {DbNow} WHERE "Id" = @node)
            UPDATE "ClaimedBatches" SET "LeaseUntil" = {DbNow} + @lease
            WHERE "NodeId" = @node AND "Id" = ANY(@claims) AND "LeaseUntil" > {DbNow}
            RETURNING "Id"
            """);
        command.Add("node", nodeId).Add("claims", claimIds).Add("lease", (long)leaseMs);
        var renewed = new HashSet<long>(claimIds.Length);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            renewed.Add(reader.GetInt64(0));
        }
        return renewed;
    }

    public async Task<List<NodeView>> ListNodesAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = Sql(connection, null, $"""
            SELECT n."Name", n."StartedAt", n."LastSeenAt",
                   (SELECT count(*) FROM "ClaimedBatches" c WHERE c."NodeId" = n."Id" AND c."LeaseUntil" > {DbNow})
            FROM "Nodes" n ORDER BY n."Name", n."Id"
            """);
        var nodes = new List<NodeView>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            nodes.Add(new NodeView(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), (int)reader.GetInt64(3)));
        }
        return nodes;
    }
}
