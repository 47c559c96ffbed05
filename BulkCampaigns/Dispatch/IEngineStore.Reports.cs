namespace BulkCampaigns.Dispatch;

public partial interface IEngineStore
{
    /// <summary>
    /// Moves messages on after SENT (<see cref="DeliveryReport.Allowed"/>) with their operations' counters, in one
    /// transaction. A report whose message is still being written as SENT (<see cref="ReportResult.NotYet"/>) is kept
    /// and applied in the transaction that writes the message, so none is lost.
    /// </summary>
    Task<AppliedReports> ApplyReportsAsync(IReadOnlyList<DeliveryReport> reports, CancellationToken ct);

    /// <summary>The message the provider knows by <paramref name="providerMessageId"/>, if any.</summary>
    Task<long?> FindMessageByProviderIdAsync(string providerMessageId, CancellationToken ct);

    /// <summary>Records an inbound provider message as handled; false when it already was (a replay or the provider's retry).</summary>
    Task<bool> ClaimInboundAsync(string providerMessageId, long now, CancellationToken ct);
}
