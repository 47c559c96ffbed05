using BulkCampaigns.Hosting;
using StackExchange.Redis;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// A pace held by every node together (with <c>ConnectionStrings:Redis</c>): one Redis key per sender (and per operation
/// with a pace of its own) holds when the next chunk may go, on Redis's clock. A node reserves a chunk's turn with one
/// atomic script call (per chunk of up to 1/20 s of the rate, never per message) and then waits until that turn, so the
/// nodes' sends interleave at the rate together and never pass it; the same rules as the in-process pacer: a turn taken
/// a little late (up to 20 ms) keeps its slot, a later one starts afresh, and idle time is not saved up.
/// </summary>
public sealed class SharedPace(SharedRedis redis, ILogger<SharedPace> log)
{
    // KEYS[1]: the next free moment (µs on Redis's clock). ARGV: rate (segments/s), segments, lateness absorbed (µs).
    // Returns how long the caller waits before sending (µs; zero or less: at once), and the turn's end and start.
    private const string Reserve = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local slot = math.floor(tonumber(ARGV[2]) * 1000000 / tonumber(ARGV[1]))
        local tolerance = math.min(slot, tonumber(ARGV[3]))
        local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
        local start = math.max(nextFree, now - tolerance)
        redis.call('SET', KEYS[1], string.format('%d', start + slot), 'PX', math.floor((start + slot - now) / 1000) + 600000)
        return {start - now, start + slot, start}
        """;

    // A turn given up before it was used (the batch was paused or canceled while waiting) goes back, unless a later
    // turn was taken meanwhile (then it is simply not used: the pace only ever errs below the rate).
    // KEYS[1]: as above. ARGV: the turn's end as reserved, the turn's start.
    private const string GiveBack = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
        end
        return 0
        """;

    private const long LatenessAbsorbedMicros = 20_000;
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);
    private long _lastWarning;

    public static string SenderKey(long senderId) => "pace:sender:" + senderId;

    public static string OperationKey(long operationId) => "pace:operation:" + operationId;

    /// <summary>
    /// Takes the next turn of <paramref name="key"/> for <paramref name="segments"/> at <paramref name="mps"/>; answers how
    /// long to wait before sending. While Redis can't be reached it keeps trying (sending nothing): a pace that can't be
    /// shared is not kept per node instead, which would let the nodes together pass it.
    /// </summary>
    public async Task<Turn> ReserveAsync(string key, double mps, int segments, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                var result = (RedisResult[])(await redis.Database.ScriptEvaluateAsync(Reserve, [redis.Key(key)],
                    [Math.Max(1, mps), Math.Max(1, segments), LatenessAbsorbedMicros]).WaitAsync(ct))!;
                var wait = (long)result[0];
                var end = (long)result[1];
                return new Turn(key, TimeSpan.FromMicroseconds(wait), end, (long)result[2]);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                var now = Environment.TickCount64;
                if (now - Interlocked.Read(ref _lastWarning) > 10_000)
                {
                    Interlocked.Exchange(ref _lastWarning, now);
                    log.LogWarning(ex, "The shared pace in Redis can't be reached; sends wait until it answers");
                }
                await Task.Delay(RetryAfterFailure, ct);
            }
        }
    }

    /// <summary>Gives back a turn that was not used, so a pause does not hold the sender's next send back by it.</summary>
    public async Task GiveBackAsync(Turn turn)
    {
        try
        {
            await redis.Database.ScriptEvaluateAsync(GiveBack, [redis.Key(turn.Key)],
                [turn.End.ToString(System.Globalization.CultureInfo.InvariantCulture), turn.Start.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Not given back: the next send waits out the unused turn, which errs below the rate, never above.
        }
    }

    /// <summary>A reserved turn: how long to wait for it, and its place on Redis's clock (µs) to give it back by.</summary>
    public sealed record Turn(string Key, TimeSpan Wait, long End, long Start);
}
