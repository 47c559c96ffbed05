using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Content;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch.Providers;
using Fluid;
using Hangfire;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// The Hangfire jobs that send an operation. They take IDs only and are safe to run twice: a batch
/// claims its QUEUED messages atomically (QUEUED → SENDING, written before any provider call), so a
/// second run finds nothing left to claim. Hangfire never retries them (JobsSetup); they retry
/// transient provider errors themselves and settle unknown outcomes by asking the provider.
/// </summary>
public sealed class DispatchJobs(
    DatabaseConnection database,
    WriteGate gate,
    IMessageProvider provider,
    SenderPacer pacer,
    TemplateRenderer renderer,
    FailureWindows failures,
    OperationService operations,
    OperationSignals signals,
    OperationProgress progress,
    IBackgroundJobClient jobs,
    ActiveBatches active,
    DeliveryReports reports,
    IOptions<DispatchOptions> options,
    TimeProvider clock,
    Operating.OperationLog opLog,
    Operating.Metrics metrics,
    ILogger<DispatchJobs> log)
{
    private static readonly TimeSpan StatusCheckInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan ProviderGraceOnStop = TimeSpan.FromSeconds(2);

    /// <summary>Starts a scheduled operation at its time.</summary>
    [DisableConcurrentExecution(60)]
    public async Task StartAsync(long operationId, CancellationToken ct)
    {
        var now = UnixMs.Now(clock);
        using (var writer = await gate.EnterAsync(ct))
        {
            var connection = writer.Connection;
            await using var tx = connection.BeginTransaction();
            await using var start = connection.CreateCommand();
            start.Transaction = tx;
            start.CommandText = "UPDATE Operations SET Status = 1, StartedAt = COALESCE(StartedAt, $now), UpdatedAt = $now WHERE Id = $op AND Status = 0";
            start.Parameters.AddWithValue("$op", operationId);
            start.Parameters.AddWithValue("$now", now);
            if (await start.ExecuteNonQueryAsync(ct) == 0)
            {
                return; // canceled, paused or already started
            }
            await using var queue = connection.CreateCommand();
            queue.Transaction = tx;
            queue.CommandText = "UPDATE Messages SET Status = 1, UpdatedAt = $now WHERE OperationId = $op AND Status = 0";
            queue.Parameters.AddWithValue("$op", operationId);
            queue.Parameters.AddWithValue("$now", now);
            var moved = await queue.ExecuteNonQueryAsync(ct);
            var delta = new StatsDelta();
            delta.Move(MessageStatus.Scheduled, MessageStatus.Queued, moved);
            await delta.ApplyAsync(connection, tx, operationId, now, ct);
            await tx.CommitAsync(ct);
        }
        progress.Publish(operationId);
        await opLog.StartedAsync(operationId, ct);
        await operations.CompleteIfDoneAsync(operationId, ct);
        await operations.EnqueueBatchesAsync(operationId, ct);
    }

    /// <summary>Sends the QUEUED messages of the operation whose IDs are in [fromId, toId].</summary>
    public async Task SendBatchAsync(long operationId, long fromId, long toId, CancellationToken ct)
    {
        using var running = active.Enter(operationId, fromId, toId);
        await using var connection = await database.OpenAsync(ct);
        var op = await LoadAsync(connection, operationId, ct);
        if (op is null || op.Status != OperationStatus.Processing)
        {
            return;
        }
        var claimedAt = clock.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        var work = await ClaimAsync(connection, operationId, fromId, toId, claimedAt, ct);
        var claimTime = Stopwatch.GetElapsedTime(started);
        if (work.Count == 0)
        {
            await operations.CompleteIfDoneAsync(operationId, ct);
            return;
        }
        progress.Publish(operationId);

        var settings = options.Value;
        Render(op, work);
        var renderTime = Stopwatch.GetElapsedTime(started) - claimTime;
        var sendTime = TimeSpan.Zero;
        var toFlush = new List<Pending>();
        foreach (var failedRender in work.Where(w => w.Final != MessageStatus.Sending))
        {
            toFlush.Add(failedRender);
        }
        var sendable = work.Where(w => w.Final == MessageStatus.Sending).ToList();
        var quietUntil = op.Quiet is { } quiet ? HoldQuiet(quiet, sendable, 0, toFlush, null) : null;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var signal = signals.Watch(operationId, stop);
        // On shutdown the batch stops claiming at once, but a provider call under way gets a moment to answer, so
        // what it sent is written now rather than left in flight for the next start to settle.
        using var inFlight = new CancellationTokenSource();
        using var shutdown = ct.Register(() => inFlight.CancelAfter(ProviderGraceOnStop));
        var index = 0;
        var lastFlush = Stopwatch.GetTimestamp();
        var lastCheck = Stopwatch.GetTimestamp();
        var mps = op.Mps;
        try
        {
            while (index < sendable.Count && !stop.IsCancellationRequested)
            {
                if (Stopwatch.GetElapsedTime(lastCheck) >= StatusCheckInterval)
                {
                    lastCheck = Stopwatch.GetTimestamp();
                    var current = await LoadAsync(connection, operationId, ct);
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
                var chunkSize = SenderPacer.ChunkSize(SenderPacer.EffectiveMps(mps, op.OperationMps), settings.MaxChunk);
                var chunk = sendable.GetRange(index, Math.Min(chunkSize, sendable.Count - index));
                if (!await pacer.WaitTurnAsync(op.SenderId, mps, op.Id, op.OperationMps, chunk.Sum(c => c.Segments), stop.Token))
                {
                    break;
                }
                index += chunk.Count;
                var sendStarted = Stopwatch.GetTimestamp();
                await SendChunkAsync(op, chunk, claimedAt, stop.Token, inFlight.Token);
                sendTime += Stopwatch.GetElapsedTime(sendStarted);
                toFlush.AddRange(chunk);

                var outcomes = chunk.Where(c => c.Final is not (MessageStatus.Queued or MessageStatus.Sending))
                    .Select(c => c.Final is not MessageStatus.Sent);
                if (failures.Record(operationId, outcomes, settings.FailureWindow, settings.FailureWindowMinimum, settings.AutoPauseFailureShare))
                {
                    failures.Reset(operationId);
                    var lastError = chunk.LastOrDefault(c => c.Code is not null);
                    var reason = string.Create(CultureInfo.InvariantCulture,
                        $"Paused automatically: more than {settings.AutoPauseFailureShare:P0} of the last {settings.FailureWindow} sends failed (last error: {lastError?.Code} {lastError?.Message}).");
                    if (await operations.PauseAsync(operationId, reason, ct) == ControlResult.Done)
                    {
                        log.LogWarning("Operation {OperationId} paused itself: {Reason}", operationId, reason);
                    }
                    break;
                }
                if (toFlush.Count >= settings.BatchSize || Stopwatch.GetElapsedTime(lastFlush).TotalMilliseconds >= settings.FlushIntervalMs)
                {
                    await FlushAsync(operationId, toFlush, ct);
                    toFlush.Clear();
                    lastFlush = Stopwatch.GetTimestamp();
                }
            }
        }
        finally
        {
            // Whatever was never handed to the provider goes back to QUEUED, keeping its place.
            for (var i = index; i < sendable.Count; i++)
            {
                sendable[i].Final = MessageStatus.Queued;
                toFlush.Add(sendable[i]);
            }
            await FlushAsync(operationId, toFlush, CancellationToken.None);
        }
        log.LogDebug("Batch {From}-{To} of operation {OperationId}: {Count} messages; claim {Claim} ms, render {Render} ms, provider {Send} ms, total {Total} ms",
            fromId, toId, operationId, work.Count, (int)claimTime.TotalMilliseconds, (int)renderTime.TotalMilliseconds,
            (int)sendTime.TotalMilliseconds, (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        // Unknown outcomes (the provider call threw) were left SENDING: settle them now, like a restart would.
        var unknown = toFlush.Where(p => p.Final == MessageStatus.Sending).ToList();
        if (unknown.Count > 0 && !ct.IsCancellationRequested)
        {
            await SettleAsync(op, unknown, claimedAt, ct);
            jobs.Enqueue<DispatchJobs>(j => j.SendBatchAsync(operationId, fromId, toId, CancellationToken.None));
        }
        if (quietUntil is { } wake && !ct.IsCancellationRequested)
        {
            // The held messages are QUEUED again; this batch comes back for them when the first one may be sent.
            jobs.Schedule<DispatchJobs>(j => j.SendBatchAsync(operationId, fromId, toId, CancellationToken.None), wake);
        }
    }

    /// <summary>
    /// Takes the not yet sent messages (from <paramref name="from"/> on) whose recipient is inside quiet hours now out of
    /// <paramref name="sendable"/> and adds them to <paramref name="toFlush"/> as QUEUED (they keep their place); returns
    /// when the first held message may go (<paramref name="earliest"/> if sooner), or null when none is held.
    /// </summary>
    private DateTimeOffset? HoldQuiet(QuietHours quiet, List<Pending> sendable, int from, List<Pending> toFlush, DateTimeOffset? earliest)
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

    private async Task SendChunkAsync(OperationInfo op, List<Pending> chunk, DateTimeOffset claimedAt, CancellationToken stop, CancellationToken ct)
    {
        var settings = options.Value;
        var pending = chunk;
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            IReadOnlyList<SendResult> results;
            var callStarted = Stopwatch.GetTimestamp();
            try
            {
                results = await provider.SendAsync(pending.Select(p => p.ToOutgoing(op.FromAddress)).ToList(), ct);
                metrics.ProviderCall(Stopwatch.GetElapsedTime(callStarted), results);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                log.LogWarning(ex, "Provider call failed for operation {OperationId}", op.Id);
                results = pending.Select(_ => new SendResult(SendOutcome.Transient, ErrorCode: "timeout", ErrorMessage: ex.Message, Ambiguous: true)).ToList();
                metrics.ProviderCall(Stopwatch.GetElapsedTime(callStarted), results);
            }
            catch (OperationCanceledException)
            {
                return; // shutting down: outcomes unknown, left SENDING for the start-up settlement
            }
            var again = new List<Pending>();
            TimeSpan retryAfter = TimeSpan.Zero;
            for (var i = 0; i < pending.Count; i++)
            {
                var p = pending[i];
                var r = results[i];
                p.Attempts++;
                switch (r.Outcome)
                {
                    case SendOutcome.Accepted:
                        p.Final = MessageStatus.Sent;
                        p.ProviderMessageId = r.ProviderMessageId;
                        p.SentAt = clock.GetUtcNow();
                        break;
                    case SendOutcome.Transient when attempt < settings.MaxSendAttempts:
                        p.Ambiguous |= r.Ambiguous;
                        p.Code = r.ErrorCode;
                        p.Message = r.ErrorMessage;
                        retryAfter = TimeSpan.FromTicks(Math.Max(retryAfter.Ticks, (r.RetryAfter ?? TimeSpan.Zero).Ticks));
                        again.Add(p);
                        break;
                    case SendOutcome.Transient:
                        p.Fail(MessageStatus.Failed, r.ErrorCode, r.ErrorMessage, retryable: true);
                        p.Ambiguous |= r.Ambiguous;
                        break;
                    case SendOutcome.Unaddressable:
                        p.Fail(MessageStatus.Unaddressable, r.ErrorCode, r.ErrorMessage, retryable: false);
                        break;
                    case SendOutcome.Unsubscribed:
                        p.Fail(MessageStatus.Failed, r.ErrorCode, r.ErrorMessage, retryable: false);
                        p.Unsubscribed = true;
                        break;
                    default:
                        p.Fail(MessageStatus.Failed, r.ErrorCode, r.ErrorMessage, r.Retryable);
                        break;
                }
            }
            // A timed-out send that finally failed may still have gone out: ask before writing FAILED.
            foreach (var p in chunk.Where(p => p.Ambiguous && p.Final == MessageStatus.Failed))
            {
                await SettleOneAsync(op, p, claimedAt, ct);
            }
            if (again.Count == 0)
            {
                return;
            }
            var backoff = TimeSpan.FromMilliseconds(settings.RetryBaseDelayMs * Math.Pow(2, attempt - 1));
            var wait = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(60).Ticks, Math.Max(backoff.Ticks, retryAfter.Ticks)));
            var waited = await DelayAsync(wait, stop);
            foreach (var p in again.Where(p => p.Ambiguous))
            {
                await SettleOneAsync(op, p, claimedAt, ct);
            }
            again.RemoveAll(p => p.Final == MessageStatus.Sent);
            if (!waited)
            {
                again.ForEach(p => p.Final = MessageStatus.Queued);
                return;
            }
            if (!await pacer.WaitTurnAsync(op.SenderId, op.Mps, op.Id, op.OperationMps, again.Sum(p => p.Segments), stop))
            {
                again.ForEach(p => p.Final = MessageStatus.Queued);
                return;
            }
            pending = again;
        }
    }

    private async Task SettleOneAsync(OperationInfo op, Pending p, DateTimeOffset claimedAt, CancellationToken ct)
    {
        try
        {
            if (await provider.FindAsync(op.FromAddress, p.Address, claimedAt.AddSeconds(-1), p.Body, ct) is { } found)
            {
                p.Final = MessageStatus.Sent;
                p.ProviderMessageId = found.ProviderMessageId;
                p.SentAt = found.ReceivedAt;
                p.Code = null;
                p.Message = null;
            }
            p.Ambiguous = false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning(ex, "Could not ask the provider about message {MessageId}", p.Id);
        }
    }

    /// <summary>Settles in-flight messages: SENT when the provider received them, else back to QUEUED.</summary>
    private async Task SettleAsync(OperationInfo op, List<Pending> inFlight, DateTimeOffset claimedAt, CancellationToken ct)
    {
        foreach (var p in inFlight)
        {
            p.Final = MessageStatus.Sending;
            p.Ambiguous = true;
            await SettleOneAsync(op, p, claimedAt, ct);
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
        await FlushAsync(op.Id, inFlight.Where(p => p.Final != MessageStatus.Sending).ToList(), ct);
    }

    /// <summary>
    /// Settles the SENDING messages of an operation: all of them after a crash (at start-up, before new sends), or
    /// those claimed before <paramref name="claimedBefore"/> that no running batch holds (<see cref="InFlightSweeper"/>).
    /// </summary>
    public async Task<int> SettleInFlightAsync(long operationId, CancellationToken ct, DateTimeOffset? claimedBefore = null, Func<long, bool>? held = null)
    {
        await using var connection = await database.OpenAsync(ct);
        var op = await LoadAsync(connection, operationId, ct);
        if (op is null)
        {
            return 0;
        }
        var inFlight = new List<(Pending P, DateTimeOffset ClaimedAt)>();
        await using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT Id, Address, Channel, VariablesJson, COALESCE(ClaimedAt, UpdatedAt) FROM Messages WHERE OperationId = $op AND Status = 2 AND COALESCE(ClaimedAt, UpdatedAt) <= $before";
            select.Parameters.AddWithValue("$op", operationId);
            select.Parameters.AddWithValue("$before", claimedBefore?.ToUnixTimeMilliseconds() ?? long.MaxValue);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                if (held?.Invoke(reader.GetInt64(0)) == true)
                {
                    continue;
                }
                inFlight.Add((new Pending(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))));
            }
        }
        if (inFlight.Count == 0)
        {
            return 0;
        }
        Render(op, inFlight.Select(i => i.P).ToList());
        foreach (var group in inFlight.GroupBy(i => i.ClaimedAt))
        {
            await SettleAsync(op, group.Select(g => g.P).ToList(), group.Key, ct);
        }
        return inFlight.Count;
    }

    private void Render(OperationInfo op, List<Pending> work)
    {
        var content = DispatchContent.Resolve(op.ContentJson, op.FromChannel);
        IFluidTemplate template;
        IFluidTemplate[] media;
        try
        {
            template = renderer.Parse(content.Text);
            media = content.Media.Select(renderer.Parse).ToArray();
        }
        catch (TemplateSyntaxException ex)
        {
            foreach (var p in work)
            {
                p.Fail(MessageStatus.Failed, "render", $"The content can't be rendered: {ex.Message}", retryable: false);
            }
            return;
        }
        var countSegments = op.FromChannel == ChannelNames.Sms;
        foreach (var p in work)
        {
            try
            {
                var variables = JsonSerializer.Deserialize<Dictionary<string, string>>(p.VariablesJson) ?? [];
                p.Body = renderer.Render(template, variables, p.Address);
                p.Media = media.Length == 0 ? [] : media.Select(m => renderer.Render(m, variables, p.Address)).ToArray();
                p.Segments = countSegments ? Math.Max(1, SmsSegments.Count(p.Body).Segments) : 1;
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
            {
                p.Fail(MessageStatus.Failed, "render", $"The message can't be rendered for this recipient: {ex.Message}", retryable: false);
            }
        }
    }

    /// <summary>
    /// Claims the batch's QUEUED messages (QUEUED → SENDING) in one statement. Their addresses and variables are read
    /// first, on the job's own connection, so the writer everyone waits for only flips statuses.
    /// "+OperationId" keeps SQLite on the rowid range: through the (OperationId, Address) index it would read every
    /// message of the operation for each batch, and a 1M operation took minutes instead of seconds.
    /// </summary>
    private async Task<List<Pending>> ClaimAsync(SqliteConnection reader, long operationId, long fromId, long toId, DateTimeOffset claimedAt, CancellationToken ct)
    {
        var queued = await ReadMessagesAsync(reader, operationId, fromId, toId, "Status = 1", ct);
        if (queued.Count == 0)
        {
            return [];
        }
        var claimedIds = new List<long>(queued.Count);
        var now = claimedAt.ToUnixTimeMilliseconds();
        using (var writer = await gate.EnterAsync(ct))
        {
            var connection = writer.Connection;
            await using var tx = connection.BeginTransaction();
            await using (var claim = connection.CreateCommand())
            {
                claim.Transaction = tx;
                claim.CommandText = """
                    UPDATE Messages SET Status = 2, ClaimedAt = $now, UpdatedAt = $now
                    WHERE Id BETWEEN $from AND $to AND +OperationId = $op AND Status = 1
                      AND EXISTS (SELECT 1 FROM Operations o WHERE o.Id = $op AND o.Status = 1)
                    RETURNING Id
                    """;
                claim.Parameters.AddWithValue("$now", now);
                claim.Parameters.AddWithValue("$from", fromId);
                claim.Parameters.AddWithValue("$to", toId);
                claim.Parameters.AddWithValue("$op", operationId);
                await using var rows = await claim.ExecuteReaderAsync(ct);
                while (await rows.ReadAsync(ct))
                {
                    claimedIds.Add(rows.GetInt64(0));
                }
            }
            if (claimedIds.Count > 0)
            {
                var delta = new StatsDelta();
                delta.Move(MessageStatus.Queued, MessageStatus.Sending, claimedIds.Count);
                await delta.ApplyAsync(connection, tx, operationId, now, ct);
            }
            await tx.CommitAsync(ct);
        }
        var claimed = new HashSet<long>(claimedIds);
        var work = queued.Where(p => claimed.Contains(p.Id)).ToList();
        if (work.Count < claimed.Count)
        {
            // Queued after the read (a retry, say): read what was claimed, now SENDING.
            var known = work.Select(p => p.Id).ToHashSet();
            var late = await ReadMessagesAsync(reader, operationId, fromId, toId, "Status = 2", ct);
            work.AddRange(late.Where(p => claimed.Contains(p.Id) && !known.Contains(p.Id)));
            work.Sort((a, b) => a.Id.CompareTo(b.Id));
        }
        return work;
    }

    private static async Task<List<Pending>> ReadMessagesAsync(SqliteConnection connection, long operationId, long fromId, long toId, string where, CancellationToken ct)
    {
        var messages = new List<Pending>((int)Math.Min(toId - fromId + 1, 100_000));
        await using var select = connection.CreateCommand();
        select.CommandText = $"SELECT Id, Address, Channel, VariablesJson FROM Messages WHERE Id BETWEEN $from AND $to AND +OperationId = $op AND {where} ORDER BY Id";
        select.Parameters.AddWithValue("$from", fromId);
        select.Parameters.AddWithValue("$to", toId);
        select.Parameters.AddWithValue("$op", operationId);
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            messages.Add(new Pending(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        }
        return messages;
    }

    /// <summary>Writes the outcomes of one stretch of sends in one transaction, with the counters and the completion check.</summary>
    private async Task FlushAsync(long operationId, List<Pending> done, CancellationToken ct)
    {
        var settled = done.Where(p => p.Final != MessageStatus.Sending).ToList();
        if (settled.Count == 0)
        {
            return;
        }
        var now = UnixMs.Now(clock);
        // Built before waiting for the writer, which everyone waits for.
        var plain = PlainSends(settled);
        bool completed;
        using (var writer = await gate.EnterAsync(ct))
        {
            var connection = writer.Connection;
            await using var tx = connection.BeginTransaction();
            await using (var canceled = connection.CreateCommand())
            {
                // Canceled while these were claimed: what never went out is CANCELED, not QUEUED again.
                canceled.Transaction = tx;
                canceled.CommandText = "SELECT Status FROM Operations WHERE Id = $op";
                canceled.Parameters.AddWithValue("$op", operationId);
                if (await canceled.ExecuteScalarAsync(ct) is long s && (OperationStatus)s == OperationStatus.Canceled)
                {
                    foreach (var p in settled.Where(p => p.Final == MessageStatus.Queued))
                    {
                        p.Final = MessageStatus.Canceled;
                    }
                }
            }
            var written = new HashSet<long>(settled.Count);
            await WriteOutcomesAsync(connection, tx, plain, settled, now, written, ct);
            var delta = new StatsDelta();
            var unsubscribed = new List<string>();
            foreach (var p in settled.Where(p => written.Contains(p.Id)))
            {
                delta.Move(MessageStatus.Sending, p.Final);
                delta.Attempts += p.Attempts;
                if (p.Unsubscribed)
                {
                    unsubscribed.Add(p.Address);
                }
            }
            if (unsubscribed.Count > 0)
            {
                await using var suppress = connection.CreateCommand();
                suppress.Transaction = tx;
                suppress.CommandText = "INSERT INTO Suppressions (Address, Reason, Source, CreatedAt) VALUES ($address, $reason, 'provider', $at) ON CONFLICT(Address) DO NOTHING";
                var address = suppress.Parameters.Add("$address", SqliteType.Text);
                suppress.Parameters.AddWithValue("$reason", "The provider reported the recipient unsubscribed.");
                suppress.Parameters.AddWithValue("$at", clock.GetUtcNow());
                foreach (var a in unsubscribed)
                {
                    address.Value = a;
                    await suppress.ExecuteNonQueryAsync(ct);
                }
            }
            await delta.ApplyAsync(connection, tx, operationId, now, ct);
            // After the counters: an early report moves a message on from the SENT just counted.
            await reports.ApplyEarlyAsync(connection, tx, written, ct);
            await using var complete = connection.CreateCommand();
            complete.Transaction = tx;
            complete.CommandText = DispatchSql.CompleteIfDone;
            complete.Parameters.AddWithValue("$op", operationId);
            complete.Parameters.AddWithValue("$now", now);
            completed = await complete.ExecuteNonQueryAsync(ct) > 0;
            await tx.CommitAsync(ct);
        }
        foreach (var p in settled)
        {
            p.Written = true;
        }
        progress.Publish(operationId);
        if (completed)
        {
            failures.Reset(operationId);
            await opLog.CompletedAsync(operationId, CancellationToken.None);
        }
    }

    /// <summary>
    /// Plain first-time sends (nearly all of them) are written by a narrower statement than other outcomes:
    /// every field pulled out of the JSON per row costs, and a million add up.
    /// </summary>
    private static bool IsPlain(Pending p) => p.Final == MessageStatus.Sent && p.Attempts == 1 && p.Code is null && p.Message is null && p.SentAt is not null;

    private sealed record PlainRows(string Json, List<long> Ids);

    private static PlainRows? PlainSends(List<Pending> settled)
    {
        var plain = settled.Where(IsPlain).ToList();
        return plain.Count == 0 ? null : new PlainRows(JsonRows(plain, (json, p) =>
        {
            json.WriteNumberValue(p.Id);
            json.WriteStringValue(p.Body);
            json.WriteNumberValue(p.Segments);
            WriteOrNull(json, p.ProviderMessageId);
            json.WriteNumberValue(p.SentAt!.Value.ToUnixTimeMilliseconds());
        }), plain.Select(p => p.Id).ToList());
    }

    /// <summary>Writes outcomes set-based, the rows going in as one JSON array parameter per statement.</summary>
    private static async Task WriteOutcomesAsync(SqliteConnection connection, SqliteTransaction tx, PlainRows? plain, List<Pending> settled, long now, HashSet<long> written, CancellationToken ct)
    {
        if (plain is not null)
        {
            // No RETURNING on the hot statement: when it wrote every row (always, unless a row stopped being SENDING
            // under it), the IDs are known; otherwise the rows it wrote are the ones holding exactly what it wrote.
            await using var update = connection.CreateCommand();
            update.Transaction = tx;
            update.CommandText = """
                UPDATE Messages SET Status = 3, Body = j.b, Segments = j.g, ProviderMessageId = j.p, SentAt = j.t, UpdatedAt = $now,
                    Attempts = Attempts + 1, ErrorCode = NULL, ErrorMessage = NULL, Retryable = 0
                FROM (SELECT value ->> 0 AS id, value ->> 1 AS b, value ->> 2 AS g, value ->> 3 AS p, value ->> 4 AS t FROM json_each($rows)) AS j
                WHERE Messages.Id = j.id AND Messages.Status = 2
                """;
            update.Parameters.AddWithValue("$now", now);
            update.Parameters.AddWithValue("$rows", plain.Json);
            if (await update.ExecuteNonQueryAsync(ct) == plain.Ids.Count)
            {
                written.UnionWith(plain.Ids);
            }
            else
            {
                await CollectIdsAsync(connection, tx, """
                    SELECT m.Id FROM json_each($rows) j JOIN Messages m ON m.Id = j.value ->> 0
                    WHERE m.Status = 3 AND m.UpdatedAt = $now AND m.ProviderMessageId IS j.value ->> 3
                    """, plain.Json, now, written, ct);
            }
        }
        var other = settled.Where(p => !IsPlain(p)).ToList();
        if (other.Count > 0)
        {
            var rows = JsonRows(other, (json, p) =>
            {
                json.WriteNumberValue(p.Id);
                json.WriteNumberValue((int)p.Final);
                json.WriteStringValue(p.Body);
                json.WriteNumberValue(p.Segments);
                WriteOrNull(json, p.ProviderMessageId);
                if (p.SentAt is { } at)
                {
                    json.WriteNumberValue(at.ToUnixTimeMilliseconds());
                }
                else
                {
                    json.WriteNullValue();
                }
                json.WriteNumberValue(p.Attempts);
                WriteOrNull(json, p.Code);
                WriteOrNull(json, p.Message);
                json.WriteNumberValue(p.Retryable ? 1 : 0);
            });
            await CollectIdsAsync(connection, tx, """
                UPDATE Messages SET Status = j.s, Body = j.b, Segments = j.g, ProviderMessageId = j.p, SentAt = j.t, UpdatedAt = $now,
                    Attempts = Attempts + j.a, ErrorCode = j.c, ErrorMessage = j.m, Retryable = j.r,
                    ClaimedAt = CASE WHEN j.s = 1 THEN NULL ELSE ClaimedAt END
                FROM (SELECT value ->> 0 AS id, value ->> 1 AS s, value ->> 2 AS b, value ->> 3 AS g, value ->> 4 AS p, value ->> 5 AS t,
                             value ->> 6 AS a, value ->> 7 AS c, value ->> 8 AS m, value ->> 9 AS r FROM json_each($rows)) AS j
                WHERE Messages.Id = j.id AND Messages.Status = 2
                RETURNING Messages.Id
                """, rows, now, written, ct);
        }
    }

    private static string JsonRows(List<Pending> rows, Action<Utf8JsonWriter, Pending> writeRow)
    {
        var buffer = new ArrayBufferWriter<byte>(rows.Count * 96);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var p in rows)
            {
                json.WriteStartArray();
                writeRow(json, p);
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Runs a statement over the JSON rows that answers message IDs, and adds them to <paramref name="written"/>.</summary>
    private static async Task CollectIdsAsync(SqliteConnection connection, SqliteTransaction tx, string sql, string rows, long now, HashSet<long> written, CancellationToken ct)
    {
        await using var update = connection.CreateCommand();
        update.Transaction = tx;
        update.CommandText = sql;
        update.Parameters.AddWithValue("$now", now);
        update.Parameters.AddWithValue("$rows", rows);
        await using var reader = await update.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            written.Add(reader.GetInt64(0));
        }
    }

    private static async Task<OperationInfo?> LoadAsync(SqliteConnection connection, long operationId, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT o.Status, o.SenderId, o.FromAddress, o.FromChannel, o.ContentJson, COALESCE(s.Mps, 1), o.Mps, o.QuietStart, o.QuietEnd, o.QuietTimeZone
            FROM Operations o LEFT JOIN Senders s ON s.Id = o.SenderId WHERE o.Id = $op
            """;
        command.Parameters.AddWithValue("$op", operationId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        return new OperationInfo(operationId, (OperationStatus)reader.GetInt32(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5))
        {
            OperationMps = reader.IsDBNull(6) ? null : reader.GetInt32(6),
            Quiet = reader.IsDBNull(7) || reader.IsDBNull(8) || reader.IsDBNull(9) ? null
                : new QuietHours(TimeOnly.Parse(reader.GetString(7), CultureInfo.InvariantCulture), TimeOnly.Parse(reader.GetString(8), CultureInfo.InvariantCulture), reader.GetString(9)),
        };
    }

    private static void WriteOrNull(Utf8JsonWriter json, string? value)
    {
        if (value is null)
        {
            json.WriteNullValue();
        }
        else
        {
            json.WriteStringValue(value);
        }
    }

    private static async Task<bool> DelayAsync(TimeSpan wait, CancellationToken ct)
    {
        try
        {
            await Task.Delay(wait, ct);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private sealed record OperationInfo(long Id, OperationStatus Status, long SenderId, string FromAddress, string FromChannel, string ContentJson, int Mps)
    {
        /// <summary>The operation's own limit below the sender's <see cref="Mps"/>; null: the sender's.</summary>
        public int? OperationMps { get; init; }
        public QuietHours? Quiet { get; init; }
    }

    private sealed class Pending(long id, string address, string channel, string variablesJson)
    {
        public long Id { get; } = id;
        public string Address { get; } = address;
        public string Channel { get; } = channel;
        public string VariablesJson { get; } = variablesJson;
        public string Body { get; set; } = "";
        public string[] Media { get; set; } = [];
        public int Segments { get; set; } = 1;
        public int Attempts { get; set; }

        /// <summary>SENDING while undecided.</summary>
        public MessageStatus Final { get; set; } = MessageStatus.Sending;
        public string? ProviderMessageId { get; set; }
        public DateTimeOffset? SentAt { get; set; }
        public string? Code { get; set; }
        public string? Message { get; set; }
        public bool Retryable { get; set; }
        public bool Unsubscribed { get; set; }
        public bool Ambiguous { get; set; }
        public bool Written { get; set; }

        public void Fail(MessageStatus status, string? code, string? message, bool retryable)
        {
            Final = status;
            Code = code;
            Message = message;
            Retryable = retryable;
        }

        public OutgoingMessage ToOutgoing(string from) => new(Id, from, Address, Channel, Body, Media);
    }
}
