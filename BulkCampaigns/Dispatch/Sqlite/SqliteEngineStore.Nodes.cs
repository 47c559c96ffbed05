using BulkCampaigns.Data;

namespace BulkCampaigns.Dispatch.Sqlite;

/// <summary>
/// Nodes on SQLite: one process per database file (the single writer is in process), so a node that registers retires
/// every other one and ends their leases: whatever they held in flight is settled by this start, as after a crash.
/// The database's clock is the machine's.
/// </summary>
public sealed partial class SqliteEngineStore
{
    public async Task<long> RegisterNodeAsync(string name, CancellationToken ct)
    {
        var now = UnixMs.Now(clock);
        using var writer = await gate.EnterAsync(ct);
        var connection = writer.Connection;
        await using var tx = connection.BeginTransaction();
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            UPDATE ClaimedBatches SET LeaseUntil = 0;
            DELETE FROM Nodes;
            INSERT INTO Nodes (Name, StartedAt, LastSeenAt) VALUES ($name, $now, $now) RETURNING Id;
            """;
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$now", now);
        var id = (long)(await command.ExecuteScalarAsync(ct))!;
        await tx.CommitAsync(ct);
        return id;
    }

    public async Task<HashSet<long>> HeartbeatAsync(long nodeId, long[] claimIds, int leaseMs, CancellationToken ct)
    {
        var now = UnixMs.Now(clock);
        var renewed = new HashSet<long>(claimIds.Length);
        using var writer = await gate.EnterBackgroundAsync(ct);
        var connection = writer.Connection;
        await using var tx = connection.BeginTransaction();
        await using (var seen = connection.CreateCommand())
        {
            seen.Transaction = tx;
            seen.CommandText = "UPDATE Nodes SET LastSeenAt = $now WHERE Id = $node";
            seen.Parameters.AddWithValue("$node", nodeId);
            seen.Parameters.AddWithValue("$now", now);
            await seen.ExecuteNonQueryAsync(ct);
        }
        if (claimIds.Length > 0)
        {
            await using var renew = connection.CreateCommand();
            renew.Transaction = tx;
            renew.CommandText = """
                UPDATE ClaimedBatches SET LeaseUntil = $now + $lease
                WHERE NodeId = $node AND LeaseUntil > $now AND Id IN (SELECT value FROM json_each($ids))
                RETURNING Id
                """;
            renew.Parameters.AddWithValue("$node", nodeId);
            renew.Parameters.AddWithValue("$now", now);
            renew.Parameters.AddWithValue("$lease", leaseMs);
            renew.Parameters.AddWithValue("$ids", System.Text.Json.JsonSerializer.Serialize(claimIds));
            await using var reader = await renew.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                renewed.Add(reader.GetInt64(0));
            }
        }
        await tx.CommitAsync(ct);
        return renewed;
    }

    public async Task<List<NodeView>> ListNodesAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT n.Name, n.StartedAt, n.LastSeenAt,
                   (SELECT COUNT(*) FROM ClaimedBatches c WHERE c.NodeId = n.Id AND c.LeaseUntil > $now)
            FROM Nodes n ORDER BY n.Name, n.Id
            """;
        command.Parameters.AddWithValue("$now", UnixMs.Now(clock));
        var nodes = new List<NodeView>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            nodes.Add(new NodeView(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), reader.GetInt32(3)));
        }
        return nodes;
    }
}
