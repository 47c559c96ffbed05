using System.Globalization;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Dispatch.Providers;
using BulkCampaigns.Hosting;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Simulator;

/// <summary>
/// The built-in carrier: records every send it accepts in SQLite (no deduplication), answers with a
/// provider message id, fails <c>FailureRate</c> of sends at once and reports delivery later.
/// A send is accepted only once its record is committed (<see cref="IEngineStore.RecordSimulatedAsync"/>), so after a
/// crash the record tells what was received.
/// </summary>
public sealed class SimulatorProvider(IEngineStore store, IOptionsMonitor<SimulatedOptions> options, TimeProvider clock) : IMessageProvider
{
    public const string IdPrefix = "SIM";

    public string Name => "Simulated";

    public async Task<IReadOnlyList<SendResult>> SendAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken ct)
    {
        var settings = options.CurrentValue;
        if (settings.LatencyMs > 0)
        {
            await Task.Delay(settings.LatencyMs, ct);
        }
        var results = new SendResult[messages.Count];
        var accepted = new List<int>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            if (settings.FailureRate > 0 && Random.Shared.NextDouble() < settings.FailureRate)
            {
                results[i] = new SendResult(SendOutcome.Failed, ErrorCode: "30008", ErrorMessage: "Unknown error (simulated failure)", Retryable: true);
            }
            else
            {
                accepted.Add(i);
            }
        }
        if (accepted.Count == 0)
        {
            return results;
        }

        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var sends = accepted.Select(i => messages[i]).Select(m => new SimulatedSend(m.MessageId, m.From, m.To, m.Body, m.Media,
            WillDeliver: !(settings.UndeliveredRate > 0 && Random.Shared.NextDouble() < settings.UndeliveredRate))).ToList();
        var ids = await store.RecordSimulatedAsync(sends, now, now + settings.DeliveryDelayMs, ct);
        for (var k = 0; k < accepted.Count; k++)
        {
            results[accepted[k]] = SendResult.Accepted(ProviderId(ids[k]));
        }
        return results;
    }

    public async Task<ProviderRecord?> FindAsync(string from, string to, string channel, DateTimeOffset after, string body, CancellationToken ct) =>
        await store.FindSimulatedAsync(from, to, after, body, ct) is { } found ? new ProviderRecord(ProviderId(found.Id), found.ReceivedAt) : null;

    public static string ProviderId(long id) => IdPrefix + id.ToString("x10", CultureInfo.InvariantCulture);
}
