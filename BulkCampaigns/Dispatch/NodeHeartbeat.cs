using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Dispatch;

/// <summary>This process as a node: its name and, once registered, its row's ID (the owner written on its claims) and its lease.</summary>
public sealed class CurrentNode(string name, NodeOptions options)
{
    public string Name { get; } = name;
    public long Id { get; internal set; }

    /// <summary>What a claim made now is held under.</summary>
    public ClaimLease Lease => new(Id, Math.Max(1, options.LeaseSeconds) * 1000);

    /// <inheritdoc cref="NodeOptions.SendWindow"/>
    public TimeSpan SendWindow => options.SendWindow;
}

/// <summary>
/// Registers this process as a node at start (before <see cref="DispatchRecovery"/>, which then settles what the node's
/// earlier run left in flight), then every <see cref="NodeOptions.HeartbeatSeconds"/> says it is alive and renews the
/// leases of the claims its running batches hold (<see cref="ActiveBatches"/>). A batch whose lease could not be renewed
/// is told to stop; one whose renewals stop coming (the database is out of reach) stops by itself when its send window
/// closes, well before the lease runs out and another node may settle it.
/// </summary>
public sealed class NodeHeartbeat(
    IEngineStore store, CurrentNode node, ActiveBatches active, IOptions<NodeOptions> options, ILogger<NodeHeartbeat> log) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    /// <summary>
    /// Registers the node; the app does it before its hosted services start (Program.cs), so that no job, the
    /// recovery or Hangfire's, claims anything before the node has an ID.
    /// </summary>
    public async Task RegisterAsync(CancellationToken ct)
    {
        if (node.Id != 0)
        {
            return;
        }
        node.Id = await store.RegisterNodeAsync(node.Name, ct);
        log.LogInformation("Node {Node} registered (ID {NodeId})", node.Name, node.Id);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await RegisterAsync(cancellationToken);
        _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.Value.HeartbeatSeconds)));
        while (await WaitAsync(timer, ct))
        {
            try
            {
                await BeatAsync(ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Node {Node} could not renew its heartbeat; its batches stop sending if this goes on", node.Name);
            }
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>One heartbeat: the node seen now, its running claims renewed (or stopped when lost).</summary>
    public async Task BeatAsync(CancellationToken ct)
    {
        var settings = options.Value;
        var claims = active.ClaimIds();
        var askedAt = Stopwatch.GetTimestamp();
        var renewed = await store.HeartbeatAsync(node.Id, claims, settings.LeaseSeconds * 1000, ct);
        var lost = active.Renewed(askedAt, claims, renewed, settings.SendWindow);
        if (lost > 0)
        {
            log.LogWarning("Node {Node} lost the lease of {Count} running batches; they stop, and the node that settled them sends the rest",
                node.Name, lost);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _stopping.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            return; // a host stopped again after it was disposed (a test factory's second dispose): nothing runs any more
        }
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }
}
