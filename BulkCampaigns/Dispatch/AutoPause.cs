using System.Globalization;
using BulkCampaigns.Operations;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Dispatch;

/// <summary>Pauses an operation whose recent sends mostly failed (<see cref="DispatchOptions.AutoPauseFailureShare"/>), giving the reason.</summary>
public sealed class AutoPause(FailureWindows failures, OperationRunner runner, IOptions<DispatchOptions> options, ILogger<AutoPause> log)
{
    /// <summary>Counts the chunk's outcomes; true when the operation was paused for them (the batch stops).</summary>
    public async Task<bool> CheckAsync(long operationId, List<BatchMessage> chunk, CancellationToken ct)
    {
        var settings = options.Value;
        var outcomes = chunk.Where(c => c.Final is not (MessageStatus.Queued or MessageStatus.Sending))
            .Select(c => c.Final is not MessageStatus.Sent);
        if (!failures.Record(operationId, outcomes, settings.FailureWindow, settings.FailureWindowMinimum, settings.AutoPauseFailureShare))
        {
            return false;
        }
        failures.Reset(operationId);
        var lastError = chunk.LastOrDefault(c => c.Code is not null);
        var reason = string.Create(CultureInfo.InvariantCulture,
            $"Paused automatically: more than {settings.AutoPauseFailureShare:P0} of the last {settings.FailureWindow} sends failed (last error: {lastError?.Code} {lastError?.Message}).");
        if (await runner.PauseAsync(operationId, reason, ct) == ControlResult.Done)
        {
            log.LogWarning("Operation {OperationId} paused itself: {Reason}", operationId, reason);
        }
        return true;
    }
}
