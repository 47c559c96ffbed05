namespace BulkCampaigns.Dispatch;

/// <summary>Who claims a batch, and for how long without a renewal (<see cref="NodeOptions.LeaseSeconds"/>).</summary>
public sealed record ClaimLease(long NodeId, int LeaseMs);

/// <summary>A node as <c>GET /v1/Nodes</c> shows it; times on the database's clock.</summary>
public sealed record NodeView(string Name, DateTimeOffset StartedAt, DateTimeOffset LastSeenAt, int ActiveBatches);

/// <summary>The nodes sharing the database and the leases of their claims.</summary>
public partial interface IEngineStore
{
    /// <summary>
    /// Registers this process as a node and answers its ID. The nodes it replaces are retired and the leases of their
    /// claims end at once, so this start settles them: on SQLite every other node (one process per database file), on
    /// PostgreSQL an earlier process of the same name (and nodes not seen for a day).
    /// </summary>
    Task<long> RegisterNodeAsync(string name, CancellationToken ct);

    /// <summary>
    /// The node is alive: its <see cref="Node.LastSeenAt"/> is now, and those of <paramref name="claimIds"/> it still
    /// holds with a lease not run out are renewed for <paramref name="leaseMs"/>. Answers the ones renewed.
    /// </summary>
    Task<HashSet<long>> HeartbeatAsync(long nodeId, long[] claimIds, int leaseMs, CancellationToken ct);

    /// <summary>Every registered node, with how many claims it holds under a live lease; by name.</summary>
    Task<List<NodeView>> ListNodesAsync(CancellationToken ct);
}
