using System.Collections.Concurrent;
using System.Globalization;
using BulkCampaigns.Hosting;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// Wakes the running jobs of an operation when it is paused or canceled, so a job waiting for its pacing slot stops at
/// once. On one node the wake-up stays in process; with <c>ConnectionStrings:Redis</c> (several nodes) a stop is also
/// published on Redis, and every node (this one included) wakes its own jobs of that operation when it hears it. Jobs
/// also re-read the status from the database every 250 ms, which is the truth should a message be lost.
/// </summary>
public sealed class OperationSignals(SharedRedis? redis = null, ILogger<OperationSignals>? log = null) : IHostedService
{
    private const string ChannelName = "operation-stop";
    private readonly ConcurrentDictionary<long, ConcurrentDictionary<CancellationTokenSource, byte>> _watchers = new();

    public IDisposable Watch(long operationId, CancellationTokenSource stop)
    {
        var set = _watchers.GetOrAdd(operationId, _ => new());
        set[stop] = 0;
        return new Unwatch(() => set.TryRemove(stop, out _));
    }

    /// <summary>Stops the operation's jobs here at once, and on the other nodes as soon as they hear it.</summary>
    public void Stop(long operationId)
    {
        StopHere(operationId);
        if (redis is not null)
        {
            _ = PublishAsync(redis, operationId);
        }
    }

    private async Task PublishAsync(SharedRedis shared, long operationId)
    {
        try
        {
            await shared.Subscriber.PublishAsync(shared.Channel(ChannelName), operationId.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            // The other nodes' jobs still see the new status at their next look at the database (within 250 ms).
            log?.LogWarning(ex, "Could not tell the other nodes that operation {OperationId} stopped", operationId);
        }
    }

    private void StopHere(long operationId)
    {
        if (_watchers.TryGetValue(operationId, out var set))
        {
            foreach (var cts in set.Keys)
            {
                try
                {
                    cts.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (redis is null)
        {
            return;
        }
        try
        {
            // StackExchange.Redis subscribes again by itself after a lost connection.
            await redis.Subscriber.SubscribeAsync(redis.Channel(ChannelName), (_, value) =>
            {
                if (long.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var operationId))
                {
                    StopHere(operationId);
                }
            });
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            log?.LogWarning(ex, "Could not listen for other nodes' pauses and cancels; this node's jobs see them at their next look at the database");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private sealed class Unwatch(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
