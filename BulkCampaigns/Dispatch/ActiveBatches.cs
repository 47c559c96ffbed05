namespace BulkCampaigns.Dispatch;

/// <summary>The message ID ranges batch jobs of this process are working on now.</summary>
public sealed class ActiveBatches
{
    private readonly List<(long Operation, long From, long To)> _active = [];

    public IDisposable Enter(long operationId, long fromId, long toId)
    {
        var entry = (operationId, fromId, toId);
        lock (_active)
        {
            _active.Add(entry);
        }
        return new Exit(this, entry);
    }

    /// <summary>How many batches are running now (a metric).</summary>
    public int Count
    {
        get
        {
            lock (_active)
            {
                return _active.Count;
            }
        }
    }

    public bool Covers(long operationId, long messageId)
    {
        lock (_active)
        {
            return _active.Exists(a => a.Operation == operationId && messageId >= a.From && messageId <= a.To);
        }
    }

    private sealed class Exit(ActiveBatches owner, (long, long, long) entry) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._active)
            {
                owner._active.Remove(entry);
            }
        }
    }
}
