namespace BulkCampaigns.Dispatch;

/// <summary>
/// SQLite takes one writer at a time. The dispatch writers (claims, results, simulator, reports) queue
/// here in process instead of spinning in SQLite's busy handler, which sleeps in coarse steps.
/// </summary>
public sealed class WriteGate
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<IDisposable> EnterAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        return new Releaser(_gate);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
