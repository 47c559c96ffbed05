using System.Collections.Concurrent;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// In-process notice that an operation's stored progress changed. The database holds the figures;
/// a subscriber (the dashboard's SignalR hub, later) reads them back. Subscribers must not block.
/// </summary>
public sealed class OperationProgress
{
    private readonly ConcurrentDictionary<Guid, Action<long>> _subscribers = new();

    /// <summary>Calls <paramref name="onChange"/> with the operation ID after each stored change, until disposed.</summary>
    public IDisposable Subscribe(Action<long> onChange)
    {
        var key = Guid.NewGuid();
        _subscribers[key] = onChange;
        return new Subscription(() => _subscribers.TryRemove(key, out _));
    }

    /// <summary>Tells about each of the operations (those a committed write touched).</summary>
    public void Publish(IEnumerable<long> operationIds)
    {
        foreach (var operationId in operationIds)
        {
            Publish(operationId);
        }
    }

    public void Publish(long operationId)
    {
        foreach (var subscriber in _subscribers.Values)
        {
            try
            {
                subscriber(operationId);
            }
            catch (Exception)
            {
                // A subscriber's failure must not stop a dispatch job.
            }
        }
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                dispose();
            }
        }
    }
}
