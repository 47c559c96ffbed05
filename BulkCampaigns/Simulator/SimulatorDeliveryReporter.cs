using BulkCampaigns.Hosting;
using BulkCampaigns.Dispatch;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Simulator;

/// <summary>
/// Reports DELIVERED or UNDELIVERED for each simulated message once its delay has passed. Pending reports
/// are the stored rows past the report mark, so they survive a restart.
/// </summary>
public sealed class SimulatorDeliveryReporter(
    IEngineStore store, OperationProgress progress, IOptionsMonitor<SimulatedOptions> options,
    TimeProvider clock, ILogger<SimulatorDeliveryReporter> log) : BackgroundService
{
    private const int MaxPerRound = 5000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var handled = 0;
            try
            {
                handled = await ReportDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Simulated delivery reports failed; trying again");
            }
            if (handled < MaxPerRound)
            {
                var wait = Math.Clamp(options.CurrentValue.DeliveryDelayMs / 4, 50, 500);
                await Task.Delay(TimeSpan.FromMilliseconds(wait), clock, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>
    /// Applies the reports that are due, set-based, in ID order: the round stops before the first report that is not due
    /// yet or whose message is still being written as SENT, and the mark moves past what was handled.
    /// Returns how many simulated messages the mark moved past.
    /// </summary>
    public async Task<int> ReportDueAsync(CancellationToken ct)
    {
        var round = await store.ReportSimulatedAsync(clock.GetUtcNow().ToUnixTimeMilliseconds(), MaxPerRound, ct);
        progress.Publish(round.Operations);
        return round.Handled;
    }
}
