using System.Collections.Concurrent;

namespace BulkCampaigns.Auth;

/// <summary>
/// Counts failures per key (an address, or an account and an address) in fixed windows: once a key has
/// <c>limit</c> failures inside one window it is refused until that window ends. In memory, per process:
/// a restart forgets the counts, which only gives a guesser a fresh window.
/// </summary>
public sealed class FailureCounter(int limit, TimeSpan window, TimeProvider clock)
{
    /// <summary>Past this many keys, expired windows are swept so a flood of addresses cannot grow memory without end.</summary>
    private const int SweepAbove = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new();

    public int Limit => limit;

    /// <summary>True (with the wait left) while the key has used up its failures for the current window.</summary>
    public bool IsBlocked(string key, out TimeSpan retryAfter)
    {
        var now = clock.GetUtcNow();
        if (_entries.TryGetValue(key, out var entry))
        {
            lock (entry)
            {
                if (entry.Ends > now && entry.Count >= limit)
                {
                    retryAfter = entry.Ends - now;
                    return true;
                }
            }
        }
        retryAfter = TimeSpan.Zero;
        return false;
    }

    public void RecordFailure(string key)
    {
        var now = clock.GetUtcNow();
        if (_entries.Count > SweepAbove)
        {
            foreach (var (k, e) in _entries)
            {
                if (e.Ends <= now)
                {
                    _entries.TryRemove(k, out _);
                }
            }
        }
        var entry = _entries.GetOrAdd(key, _ => new Entry());
        lock (entry)
        {
            if (entry.Ends <= now)
            {
                entry.Ends = now + window;
                entry.Count = 0;
            }
            entry.Count++;
        }
    }

    public void Reset(string key) => _entries.TryRemove(key, out _);

    private sealed class Entry
    {
        public DateTimeOffset Ends;
        public int Count;
    }
}
