using System.Collections.Concurrent;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// The outcome of each operation's last sends (process-wide), to pause an operation that keeps failing.
/// </summary>
public sealed class FailureWindows
{
    private readonly ConcurrentDictionary<long, Window> _windows = new();

    /// <summary>Records outcomes; true when more than <paramref name="share"/> of the last <paramref name="size"/> (at least <paramref name="minimum"/>) failed.</summary>
    public bool Record(long operationId, IEnumerable<bool> failed, int size, int minimum, double share)
    {
        var window = _windows.GetOrAdd(operationId, _ => new Window(size));
        lock (window)
        {
            foreach (var f in failed)
            {
                window.Add(f);
            }
            return window.Count >= minimum && window.Failures > share * window.Count;
        }
    }

    public void Reset(long operationId) => _windows.TryRemove(operationId, out _);

    private sealed class Window(int size)
    {
        private readonly bool[] _ring = new bool[Math.Max(1, size)];
        private int _next;

        public int Count { get; private set; }
        public int Failures { get; private set; }

        public void Add(bool failed)
        {
            if (Count == _ring.Length)
            {
                if (_ring[_next])
                {
                    Failures--;
                }
            }
            else
            {
                Count++;
            }
            _ring[_next] = failed;
            if (failed)
            {
                Failures++;
            }
            _next = (_next + 1) % _ring.Length;
        }
    }
}
