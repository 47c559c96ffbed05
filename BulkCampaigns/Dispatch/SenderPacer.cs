using System.Collections.Concurrent;
using System.Diagnostics;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// Paces sends to each sender's MPS, counted in SMS segments and shared by every operation and job of
/// the process that uses the sender. A reservation gets the earliest start time at which its segments
/// fit the rate (GCRA with no burst), so the rate is never exceeded and idle time is not saved up.
/// </summary>
/// <remarks>Process-wide: several worker nodes would need this state shared (e.g. in the database or Redis).</remarks>
public sealed class SenderPacer
{
    private readonly ConcurrentDictionary<long, Bucket> _buckets = new();

    /// <summary>Chunk size that keeps each burst within 1/20 s of the rate.</summary>
    public static int ChunkSize(int mps, int maxChunk) => Math.Clamp(mps / 20, 1, Math.Max(1, maxChunk));

    public void SetRate(long senderId, int mps) => _buckets.GetOrAdd(senderId, _ => new Bucket()).SetRate(mps);

    /// <summary>Reserves <paramref name="segments"/> and returns how long to wait before sending them.</summary>
    public TimeSpan Reserve(long senderId, int mps, int segments)
    {
        var bucket = _buckets.GetOrAdd(senderId, _ => new Bucket());
        return bucket.Reserve(mps, Math.Max(1, segments));
    }

    private sealed class Bucket
    {
        private readonly Lock _lock = new();
        private double _rate;
        private long _nextFree; // Stopwatch ticks

        public void SetRate(int mps)
        {
            lock (_lock)
            {
                _rate = mps;
            }
        }

        public TimeSpan Reserve(int mps, int segments)
        {
            lock (_lock)
            {
                if (_rate <= 0)
                {
                    _rate = mps;
                }
                var now = Stopwatch.GetTimestamp();
                var start = Math.Max(now, _nextFree);
                _nextFree = start + (long)(segments / _rate * Stopwatch.Frequency);
                return Stopwatch.GetElapsedTime(now, start);
            }
        }
    }
}
