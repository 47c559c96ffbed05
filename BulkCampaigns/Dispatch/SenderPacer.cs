using System.Collections.Concurrent;
using System.Diagnostics;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// Paces sends to each sender's MPS, counted in SMS segments and shared by every operation and job of
/// the process that uses the sender. Senders take turns: a chunk may go when the previous one's
/// segments have had their time at the rate, counted from when that chunk actually went, so a job
/// woken late never lets the next one catch up into a burst, and idle time is not saved up.
/// </summary>
/// <remarks>
/// With <paramref name="shared"/> (several nodes, <c>ConnectionStrings:Redis</c>) each turn is reserved in Redis
/// (<see cref="SharedPace"/>), so all nodes together hold the rate; the buckets here then only make this process's jobs
/// take turns at asking (one reservation ahead per sender per node). Without it the schedule is kept here, in process.
/// </remarks>
public sealed class SenderPacer(TimeSpan? idleOperationDropped = null, SharedPace? shared = null)
{
    private static readonly long LatenessAbsorbed = Stopwatch.Frequency / 50; // 20 ms
    private static readonly TimeSpan EarlyAllowed = TimeSpan.FromMilliseconds(2);
    private readonly ConcurrentDictionary<long, Bucket> _buckets = new();
    private readonly ConcurrentDictionary<long, Bucket> _operations = new();
    private readonly long _idleTicks = (long)((idleOperationDropped ?? TimeSpan.FromMinutes(5)).TotalSeconds * Stopwatch.Frequency);

    /// <summary>Chunk size that keeps each burst within 1/20 s of the rate.</summary>
    public static int ChunkSize(int mps, int maxChunk) => Math.Clamp(mps / 20, 1, Math.Max(1, maxChunk));

    /// <summary>Takes a new MPS at once (jobs also pass the stored MPS, which they re-read often).</summary>
    public void SetRate(long senderId, int mps) => _buckets.GetOrAdd(senderId, _ => new Bucket()).Rate = mps;

    /// <summary>
    /// Waits for the operation's own turn when it has a lower limit than its sender (never more than the sender's:
    /// the sender's turn is still taken after), then for the sender's; false when canceled while waiting.
    /// </summary>
    public async Task<bool> WaitTurnAsync(long senderId, int senderMps, long operationId, int? operationMps, int segments, CancellationToken ct)
    {
        if (operationMps is { } own && own < senderMps &&
            !await WaitTurnAsync(_operations.GetOrAdd(operationId, NewOperationBucket), SharedPace.OperationKey(operationId), own, segments, ct))
        {
            return false;
        }
        return await WaitTurnAsync(senderId, senderMps, segments, ct);
    }

    internal bool IsPacing(long operationId) => _operations.ContainsKey(operationId);

    /// <summary>
    /// A new operation's bucket; the buckets of operations that have not sent for a while (ended, or paused) are dropped
    /// then, so they do not pile up for the life of the process. One that sends again simply starts a new bucket.
    /// </summary>
    private Bucket NewOperationBucket(long operationId)
    {
        var idleSince = Stopwatch.GetTimestamp() - _idleTicks;
        foreach (var (id, bucket) in _operations)
        {
            if (bucket.NextFree < idleSince && bucket.Turn.CurrentCount == 1)
            {
                _operations.TryRemove(id, out _);
            }
        }
        return new Bucket();
    }

    /// <summary>The rate an operation is sent at: its own limit, capped by its sender's.</summary>
    public static int EffectiveMps(int senderMps, int? operationMps) => operationMps is { } own ? Math.Clamp(own, 1, Math.Max(1, senderMps)) : senderMps;

    /// <summary>Waits for the sender's turn to send <paramref name="segments"/>; false when canceled while waiting.</summary>
    public Task<bool> WaitTurnAsync(long senderId, int mps, int segments, CancellationToken ct) =>
        WaitTurnAsync(_buckets.GetOrAdd(senderId, _ => new Bucket()), SharedPace.SenderKey(senderId), mps, segments, ct);

    private async Task<bool> WaitTurnAsync(Bucket bucket, string sharedKey, int mps, int segments, CancellationToken ct)
    {
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
            if (shared is not null)
            {
                var turn = await shared.ReserveAsync(sharedKey, bucket.Rate, segments, ct);
                if (turn.Wait > EarlyAllowed)
                {
                    try
                    {
                        await Task.Delay(turn.Wait, ct);
                    }
                    catch (OperationCanceledException)
                    {
                        await shared.GiveBackAsync(turn);
                        throw;
                    }
                }
                bucket.NextFree = Stopwatch.GetTimestamp(); // when it last sent, for dropping idle operation buckets
                return true;
            }
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), bucket.NextFree);
            // A wait shorter than the timer's resolution would cost a whole timer tick (and more on a busy
            // machine): go at once, at most EarlyAllowed ahead of the schedule, which still advances by the slot.
            if (wait > EarlyAllowed)
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
        public long NextFree { get; set; } = Stopwatch.GetTimestamp();
    }
}
