using System.Collections.Concurrent;
using System.Diagnostics;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// Paces sends to each sender's MPS, counted in SMS segments and shared by every operation and job of
/// the process that uses the sender. Senders take turns: a chunk may go when the previous one's
/// segments have had their time at the rate, counted from when that chunk actually went, so a job
/// woken late never lets the next one catch up into a burst, and idle time is not saved up.
/// </summary>
/// <remarks>Process-wide: several worker nodes would need this state shared (e.g. in the database or Redis).</remarks>
public sealed class SenderPacer
{
    private static readonly long LatenessAbsorbed = Stopwatch.Frequency / 50; // 20 ms
    private readonly ConcurrentDictionary<long, Bucket> _buckets = new();

    /// <summary>Chunk size that keeps each burst within 1/20 s of the rate.</summary>
    public static int ChunkSize(int mps, int maxChunk) => Math.Clamp(mps / 20, 1, Math.Max(1, maxChunk));

    /// <summary>Takes a new MPS at once (jobs also pass the stored MPS, which they re-read often).</summary>
    public void SetRate(long senderId, int mps) => _buckets.GetOrAdd(senderId, _ => new Bucket()).Rate = mps;

    /// <summary>Waits for the sender's turn to send <paramref name="segments"/>; false when canceled while waiting.</summary>
    public async Task<bool> WaitTurnAsync(long senderId, int mps, int segments, CancellationToken ct)
    {
        var bucket = _buckets.GetOrAdd(senderId, _ => new Bucket());
        try
        {
            await bucket.Turn.WaitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        try
        {
            bucket.Rate = Math.Max(1, mps);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), bucket.NextFree);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, ct);
            }
            // A turn that starts a little late (timer and thread-pool delays) keeps its slot, so the rate holds;
            // one that is later than that starts afresh, so lateness is never made up in a burst.
            var now = Stopwatch.GetTimestamp();
            var slot = (long)(Math.Max(1, segments) / bucket.Rate * Stopwatch.Frequency);
            var tolerance = Math.Min(slot, LatenessAbsorbed);
            bucket.NextFree = Math.Max(now - tolerance, bucket.NextFree) + slot;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        finally
        {
            bucket.Turn.Release();
        }
    }

    private sealed class Bucket
    {
        public SemaphoreSlim Turn { get; } = new(1, 1);
        public double Rate { get; set; } = 1;
        public long NextFree { get; set; }
    }
}
