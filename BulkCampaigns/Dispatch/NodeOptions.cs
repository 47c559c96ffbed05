using System.Text.RegularExpressions;

namespace BulkCampaigns.Dispatch;

/// <summary>Bound from <c>Node</c>: how this process appears among the nodes sharing the database, and its leases.</summary>
public sealed partial class NodeOptions
{
    /// <summary>How this process appears in <c>/v1/Nodes</c> and in logs; the host name and process ID when not set.</summary>
    public string? Name { get; set; }

    /// <summary>How often the node says it is alive and renews the leases of its running batches.</summary>
    public int HeartbeatSeconds { get; set; } = 5;

    /// <summary>How long a claim stays its node's without a renewal; after it other nodes settle it and send the rest.</summary>
    public int LeaseSeconds { get; set; } = 30;

    public static string ResolveName(IConfiguration configuration) =>
        configuration["Node:Name"] is { Length: > 0 } name ? name.Trim() : $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>
    /// The Hangfire queue only this node listens to (besides the shared one): jobs that need this node's disk (an
    /// import's uploaded file) go there. Hangfire takes lower-case letters, digits, '_' and '-' in queue names.
    /// </summary>
    public static string QueueOf(string nodeName) => "node_" + QueueUnsafe().Replace(nodeName.ToLowerInvariant(), "_");

    /// <summary>
    /// How long a batch may go on sending after its last confirmed renewal: well inside the lease, so that a node cut
    /// off from the database stops sending before another node may take its batches over.
    /// </summary>
    public TimeSpan SendWindow => TimeSpan.FromSeconds(Math.Max(1, LeaseSeconds - Math.Max(2 * HeartbeatSeconds, LeaseSeconds / 3)));

    [GeneratedRegex("[^a-z0-9_-]")]
    private static partial Regex QueueUnsafe();
}
