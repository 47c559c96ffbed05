using System.Diagnostics;
using BulkCampaigns.Dispatch.Providers;
using BulkCampaigns.Operations;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// The send step: hands a chunk to the provider, retries transient errors with backoff (never under the provider's
/// Retry-After, each retry waiting its turn at the pacer), and asks the provider about sends whose outcome is unknown.
/// </summary>
public sealed class BatchSender(
    IMessageProvider provider,
    SenderPacer pacer,
    IOptions<DispatchOptions> options,
    TimeProvider clock,
    Operating.Metrics metrics,
    ILogger<BatchSender> log)
{
    public async Task SendChunkAsync(BatchOperation op, List<BatchMessage> chunk, DateTimeOffset claimedAt, CancellationToken stop, CancellationToken ct)
    {
        var settings = options.Value;
        var pending = chunk;
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            IReadOnlyList<SendResult> results;
            var callStarted = Stopwatch.GetTimestamp();
            try
            {
                results = await provider.SendAsync(pending.Select(p => p.ToOutgoing(op.FromAddress, op.FromChannel)).ToList(), ct);
                metrics.ProviderCall(Stopwatch.GetElapsedTime(callStarted), results);
            }
            // A provider that keeps its messages in the app's database (the Simulator) fails with it: that is the
            // database lost, not a provider error to retry; the batch stops and settles (DispatchJobs).
            catch (Exception ex) when (!ct.IsCancellationRequested && !Data.DatabaseLoss.Is(ex))
            {
                log.LogWarning(ex, "Provider call failed for operation {OperationId}", op.Id);
                results = pending.Select(_ => new SendResult(SendOutcome.Transient, ErrorCode: "timeout", ErrorMessage: ex.Message, Ambiguous: true)).ToList();
                metrics.ProviderCall(Stopwatch.GetElapsedTime(callStarted), results);
            }
            catch (OperationCanceledException)
            {
                return; // shutting down: outcomes unknown, left SENDING for the start-up settlement
            }
            var again = new List<BatchMessage>();
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

    /// <summary>Asks the provider whether it received a message whose send is in doubt; SENT when it did.</summary>
    public async Task SettleOneAsync(BatchOperation op, BatchMessage p, DateTimeOffset claimedAt, CancellationToken ct)
    {
        try
        {
            if (await provider.FindAsync(op.FromAddress, p.Address, p.SendChannel(op.FromChannel), claimedAt.AddSeconds(-1), p.Body, ct) is { } found)
            {
                p.Final = MessageStatus.Sent;
                p.ProviderMessageId = found.ProviderMessageId;
                p.SentAt = found.ReceivedAt;
                p.Code = null;
                p.Message = null;
            }
            p.Ambiguous = false;
        }
        // The database lost (the Simulator looks in it) goes up to the batch, which waits for it rather than
        // logging each message it could not ask about.
        catch (Exception ex) when (ex is not OperationCanceledException && !Data.DatabaseLoss.Is(ex))
        {
            log.LogWarning(ex, "Could not ask the provider about message {MessageId}", p.Id);
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
}
