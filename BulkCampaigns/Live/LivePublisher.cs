using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace BulkCampaigns.Live;

/// <summary>
/// Jobs call <see cref="Changed"/> as often as they like; every 100 ms each changed topic is sent once
/// through the hub. Publishing never blocks or fails a job.
/// </summary>
public sealed class LivePublisher(IHubContext<LiveHub> hub, ILogger<LivePublisher> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private readonly ConcurrentDictionary<string, byte> _pending = new(StringComparer.Ordinal);

    public void Changed(string topic) => _pending.TryAdd(topic, 0);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var topic in _pending.Keys)
            {
                if (!_pending.TryRemove(topic, out _))
                {
                    continue;
                }
                try
                {
                    await hub.Clients.Group(topic).SendAsync(LiveHub.ChangedMethod, topic, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Could not publish a change of {Topic}", topic);
                }
            }
        }
    }
}
