using System.Collections.Concurrent;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// Wakes this process's jobs of an operation when it is paused or canceled, so a job waiting for its
/// pacing slot stops at once. Jobs also re-read the status from the database, which is what another
/// node's jobs would see.
/// </summary>
public sealed class OperationSignals
{
    private readonly ConcurrentDictionary<long, ConcurrentDictionary<CancellationTokenSource, byte>> _watchers = new();

    public IDisposable Watch(long operationId, CancellationTokenSource stop)
    {
        var set = _watchers.GetOrAdd(operationId, _ => new());
        set[stop] = 0;
        return new Unwatch(() => set.TryRemove(stop, out _));
    }

    public void Stop(long operationId)
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

    private sealed class Unwatch(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
