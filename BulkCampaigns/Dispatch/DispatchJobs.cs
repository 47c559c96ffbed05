using System.Diagnostics;
using BulkCampaigns.Data;
using BulkCampaigns.Operations;
using Hangfire;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// The Hangfire jobs that send an operation. They take IDs only and are safe to run twice: a batch
/// claims its QUEUED messages atomically (QUEUED → SENDING, written before any provider call), so a
/// second run finds nothing left to claim. Hangfire never retries them (JobsSetup); they retry
/// transient provider errors themselves and settle unknown outcomes by asking the provider.
/// A batch reads as its steps: claim (<see cref="IEngineStore"/>) → render (<see cref="BatchRenderer"/>) → pace
/// (<see cref="SenderPacer"/>, <see cref="QuietHours"/>) → send (<see cref="BatchSender"/>) → record
/// (<see cref="BatchRecorder"/>), with <see cref="AutoPause"/> after each chunk. It has more than eight dependencies
/// because it is where those steps meet, with the pause signal, the batch registry and the job client around them.
/// </summary>
public sealed class DispatchJobs(
    IEngineStore store,
    BatchRenderer renderer,
    SenderPacer pacer,
    BatchSender sender,
    BatchRecorder recorder,
    AutoPause autoPause,
    OperationRunner operations,
    OperationSignals signals,
    OperationProgress progress,
    IBackgroundJobClient jobs,
    ActiveBatches active,
    CurrentNode node,
    IOptions<DispatchOptions> options,
    TimeProvider clock,
    Operating.OperationLog opLog,
    ILogger<DispatchJobs> log)
{
    private static readonly TimeSpan StatusCheckInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan ProviderGraceOnStop = TimeSpan.FromSeconds(2);

    /// <summary>Starts a scheduled operation at its time.</summary>
    [DisableConcurrentExecution(60)]
    public async Task StartAsync(long operationId, CancellationToken ct)
    {
        if (!await store.StartAsync(operationId, UnixMs.Now(clock), ct))
        {
            return; // canceled, paused or already started
        }
        progress.Publish(operationId);
        await opLog.StartedAsync(operationId, ct);
        await operations.CompleteIfDoneAsync(operationId, ct);
        await operations.EnqueueBatchesAsync(operationId, ct);
    }

    /// <summary>
    /// Sends the QUEUED messages of the operation whose IDs are in [fromId, toId]. When the database goes away under
    /// it, the batch stops sending and, once the database answers again, settles its range and queues itself again
    /// (<see cref="GoOnAfterDatabaseLossAsync"/>).
    /// </summary>
    public async Task SendBatchAsync(long operationId, long fromId, long toId, CancellationToken ct)
    {
        // Held until the range is settled: the sweeper leaves a range a running batch holds alone.
        using var running = active.Enter(operationId, fromId, toId);
        try
        {
            await SendRangeAsync(running, operationId, fromId, toId, ct);
        }
        catch (Exception ex) when (DatabaseLoss.Is(ex) && !ct.IsCancellationRequested)
        {
            await GoOnAfterDatabaseLossAsync(operationId, fromId, toId, ex, ct);
        }
    }

    private async Task SendRangeAsync(ActiveBatches.Entry running, long operationId, long fromId, long toId, CancellationToken ct)
    {
        await using var connection = await store.OpenReaderAsync(ct);
        var op = await store.LoadOperationAsync(connection, operationId, ct);
        if (op is null || op.Status != OperationStatus.Processing)
        {
            return;
        }
        var claimedAt = clock.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        // Claim, for this node under a lease its heartbeat renews while the batch runs.
        var work = await store.ClaimAsync(connection, operationId, fromId, toId, claimedAt, node.Lease, ct);
        var claimTime = Stopwatch.GetElapsedTime(started);
        if (work.Count == 0)
        {
            log.LogDebug("Batch {From}-{To} of operation {OperationId}: nothing to claim ({Claim} ms)", fromId, toId, operationId, (int)claimTime.TotalMilliseconds);
            await operations.CompleteIfDoneAsync(operationId, ct);
            return;
        }
        running.Claimed(work[0].ClaimId, started, node.SendWindow);
        progress.Publish(operationId);

        // Render.
        var settings = options.Value;
        renderer.Render(op, work);
        var renderTime = Stopwatch.GetElapsedTime(started) - claimTime;
        var sendTime = TimeSpan.Zero;
        var toFlush = new List<BatchMessage>();
        foreach (var failedRender in work.Where(w => w.Final != MessageStatus.Sending))
        {
            toFlush.Add(failedRender);
        }
        var sendable = work.Where(w => w.Final == MessageStatus.Sending).ToList();
        var quietUntil = op.Quiet is { } quiet ? HoldQuiet(quiet, sendable, 0, toFlush, null) : null;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, running.Lost);
        using var signal = signals.Watch(operationId, stop);
        // On shutdown the batch stops claiming at once, but a provider call under way gets a moment to answer, so
        // what it sent is written now rather than left in flight for the next start to settle.
        using var inFlight = new CancellationTokenSource();
        using var shutdown = ct.Register(() => inFlight.CancelAfter(ProviderGraceOnStop));
        var index = 0;
        var lastFlush = Stopwatch.GetTimestamp();
        var lastCheck = Stopwatch.GetTimestamp();
        var mps = op.Mps;
        var leaseStopped = false;
        try
        {
            while (index < sendable.Count && !stop.IsCancellationRequested)
            {
                if (Stopwatch.GetElapsedTime(lastCheck) >= StatusCheckInterval)
                {
                    lastCheck = Stopwatch.GetTimestamp();
                    var current = await store.LoadOperationAsync(connection, operationId, ct);
                    if (current is null || current.Status != OperationStatus.Processing)
                    {
                        break;
                    }
                    mps = current.Mps;
                    // A batch sent slowly may run into quiet hours: what is left is judged again.
                    if (op.Quiet is { } stillQuiet)
                    {
                        quietUntil = HoldQuiet(stillQuiet, sendable, index, toFlush, quietUntil);
                    }
                }
                // Pace.
                var chunkSize = SenderPacer.ChunkSize(SenderPacer.EffectiveMps(mps, op.OperationMps), settings.MaxChunk);
                var chunk = sendable.GetRange(index, Math.Min(chunkSize, sendable.Count - index));
                if (!await pacer.WaitTurnAsync(op.SenderId, mps, op.Id, op.OperationMps, chunk.Sum(c => c.Segments), stop.Token))
                {
                    break;
                }
                if (!running.MaySend)
                {
                    leaseStopped = true;
                    // The lease was not confirmed for a while (the database out of reach) or was lost: another node
                    // may settle this claim soon, so nothing more goes to the provider from here.
                    log.LogWarning("Batch {From}-{To} of operation {OperationId} stops: its lease was not renewed", fromId, toId, operationId);
                    break;
                }
                index += chunk.Count;
                // Send.
                var sendStarted = Stopwatch.GetTimestamp();
                await sender.SendChunkAsync(op, chunk, claimedAt, stop.Token, inFlight.Token);
                sendTime += Stopwatch.GetElapsedTime(sendStarted);
                toFlush.AddRange(chunk);
                if (index == sendable.Count)
                {
                    running.Finishing(); // the next record may be the last, which deletes the claim
                }

                if (await autoPause.CheckAsync(operationId, chunk, ct))
                {
                    break;
                }
                // Record.
                if (toFlush.Count >= settings.BatchSize || Stopwatch.GetElapsedTime(lastFlush).TotalMilliseconds >= settings.FlushIntervalMs)
                {
                    await recorder.RecordAsync(operationId, toFlush, ct);
                    toFlush.Clear();
                    lastFlush = Stopwatch.GetTimestamp();
                }
            }
        }
        finally
        {
            running.Finishing();
            // Whatever was never handed to the provider goes back to QUEUED, keeping its place.
            for (var i = index; i < sendable.Count; i++)
            {
                sendable[i].Final = MessageStatus.Queued;
                toFlush.Add(sendable[i]);
            }
            await recorder.RecordAsync(operationId, toFlush, CancellationToken.None);
        }
        log.LogDebug("Batch {From}-{To} of operation {OperationId}: {Count} messages, {Sent} handed to the provider, {Back} queued again; claim {Claim} ms, render {Render} ms, provider {Send} ms, total {Total} ms",
            fromId, toId, operationId, work.Count, index, sendable.Count - index, (int)claimTime.TotalMilliseconds, (int)renderTime.TotalMilliseconds,
            (int)sendTime.TotalMilliseconds, (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        // Unknown outcomes (the provider call threw) were left SENDING: settle them now, like a restart would.
        var unknown = toFlush.Where(p => p.Final == MessageStatus.Sending).ToList();
        if (unknown.Count > 0 && !ct.IsCancellationRequested)
        {
            await SettleAsync(op, unknown, claimedAt, ct);
            jobs.Enqueue<DispatchJobs>(j => j.SendBatchAsync(operationId, fromId, toId, CancellationToken.None));
        }
        if ((leaseStopped || running.Lost.IsCancellationRequested) && index < sendable.Count && !ct.IsCancellationRequested)
        {
            // Stopped for its lease: what it put back to QUEUED is sent by a new run of the range (a claim taken over
            // by another node was settled there, and this run then finds its messages claimed or written).
            jobs.Enqueue<DispatchJobs>(j => j.SendBatchAsync(operationId, fromId, toId, CancellationToken.None));
        }
        if (quietUntil is { } wake && !ct.IsCancellationRequested)
        {
            // The held messages are QUEUED again; this batch comes back for them when the first one may be sent.
            jobs.Schedule<DispatchJobs>(j => j.SendBatchAsync(operationId, fromId, toId, CancellationToken.None), wake);
        }
    }

    /// <summary>
    /// The database went away while this batch ran (a claim, a status check, a record, or the Simulator's own store
    /// failed): nothing more is sent, since no outcome could be written. What the batch had in flight is not guessed
    /// at, nor its record retried (a commit whose answer was lost may or may not have happened): once the database
    /// answers again, its range is settled like after a crash, asking the provider which messages it has (those are
    /// SENT, the others QUEUED again), and the batch is queued again for the rest. Waiting backs off to 5 s; one
    /// warning says the database was lost, one line that sending goes on.
    /// </summary>
    private async Task GoOnAfterDatabaseLossAsync(long operationId, long fromId, long toId, Exception lost, CancellationToken ct)
    {
        log.LogWarning("Lost the database while sending batch {From}-{To} of operation {OperationId} ({Reason}): sending stopped; it goes on when the database answers again",
            fromId, toId, operationId, DatabaseLoss.Reason(lost));
        var wait = TimeSpan.FromMilliseconds(500);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await Task.Delay(wait, ct);
            }
            catch (OperationCanceledException)
            {
                return; // stopping: the next start settles the range
            }
            try
            {
                await using (var probe = await store.OpenReaderAsync(ct))
                {
                    await store.LoadOperationAsync(probe, operationId, ct);
                }
                // Only this batch's range; a range whose provider could not be asked stays for the sweeper.
                var settled = await SettleInFlightAsync(operationId, ct, held: first => first < fromId || first > toId);
                await operations.CompleteIfDoneAsync(operationId, ct);
                jobs.Enqueue<DispatchJobs>(j => j.SendBatchAsync(operationId, fromId, toId, CancellationToken.None));
                log.LogInformation("The database answers again after {Seconds} s: batch {From}-{To} of operation {OperationId} settled ({Settled}) and queued to go on",
                    (int)waited.Elapsed.TotalSeconds, fromId, toId, operationId, settled);
                return;
            }
            catch (Exception ex) when (DatabaseLoss.Is(ex) && !ct.IsCancellationRequested)
            {
                wait = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, wait.Ticks * 2));
            }
        }
    }

    /// <summary>
    /// Takes the not yet sent messages (from <paramref name="from"/> on) whose recipient is inside quiet hours now out of
    /// <paramref name="sendable"/> and adds them to <paramref name="toFlush"/> as QUEUED (they keep their place); returns
    /// when the first held message may go (<paramref name="earliest"/> if sooner), or null when none is held.
    /// </summary>
    private DateTimeOffset? HoldQuiet(QuietHours quiet, List<BatchMessage> sendable, int from, List<BatchMessage> toFlush, DateTimeOffset? earliest)
    {
        var check = new QuietHoursCheck(quiet, clock.GetUtcNow());
        var kept = from;
        for (var i = from; i < sendable.Count; i++)
        {
            var p = sendable[i];
            if (check.WaitUntil(p.Address) is { } until)
            {
                p.Final = MessageStatus.Queued;
                toFlush.Add(p);
                earliest = earliest is { } e && e <= until ? e : until;
            }
            else
            {
                sendable[kept++] = p;
            }
        }
        sendable.RemoveRange(kept, sendable.Count - kept);
        return earliest;
    }

    /// <summary>Settles in-flight messages: SENT when the provider received them, else back to QUEUED.</summary>
    private async Task SettleAsync(BatchOperation op, List<BatchMessage> inFlight, DateTimeOffset claimedAt, CancellationToken ct)
    {
        foreach (var p in inFlight)
        {
            p.Final = MessageStatus.Sending;
            p.Ambiguous = true;
            await sender.SettleOneAsync(op, p, claimedAt, ct);
            if (p.Final == MessageStatus.Sent)
            {
                // The provider has it, so it was attempted: a message settled after a crash was never counted.
                p.Attempts = Math.Max(p.Attempts, 1);
            }
            else
            {
                if (p.Ambiguous)
                {
                    continue; // the provider could not be asked: leave it SENDING for the next settlement
                }
                p.Final = MessageStatus.Queued;
            }
        }
        await recorder.RecordAsync(op.Id, inFlight.Where(p => p.Final != MessageStatus.Sending).ToList(), ct);
    }

    /// <summary>
    /// Settles the claims of an operation whose lease ran out: at start-up, before new sends, those this node's earlier
    /// run left (their leases end when it registers); in the sweep (<see cref="InFlightSweeper"/>), those claimed before
    /// <paramref name="claimedBefore"/> that no running batch of this process holds, a dead node's among them.
    /// </summary>
    public async Task<int> SettleInFlightAsync(long operationId, CancellationToken ct, DateTimeOffset? claimedBefore = null, Func<long, bool>? held = null)
    {
        await using var connection = await store.OpenReaderAsync(ct);
        var op = await store.LoadOperationAsync(connection, operationId, ct);
        if (op is null)
        {
            return 0;
        }
        var claims = await store.ReadInFlightAsync(connection, operationId, claimedBefore, held, ct);
        if (claims.Count == 0)
        {
            return 0;
        }
        renderer.Render(op, claims.SelectMany(c => c.Messages).ToList());
        var count = 0;
        foreach (var claim in claims)
        {
            if (claim.Id == 0)
            {
                await SettleAsync(op, claim.Messages, claim.ClaimedAt, ct);
                count += claim.Messages.Count;
                continue;
            }
            var received = new List<BatchMessage>();
            var unknown = false;
            foreach (var p in claim.Messages)
            {
                p.Final = MessageStatus.Sending;
                p.Ambiguous = true;
                await sender.SettleOneAsync(op, p, claim.ClaimedAt, ct);
                if (p.Final == MessageStatus.Sent)
                {
                    // The provider has it, so it was attempted: a message settled after a crash was never counted.
                    p.Attempts = Math.Max(p.Attempts, 1);
                    received.Add(p);
                }
                else if (p.Ambiguous)
                {
                    unknown = true; // the provider could not be asked: the range waits for the next settlement
                    break;
                }
            }
            if (unknown)
            {
                continue;
            }
            await recorder.SettleClaimAsync(op.Id, claim.Id, received, ct);
            count += Math.Max(1, claim.Messages.Count);
        }
        return count;
    }
}
