namespace BulkCampaigns.Dispatch;

public partial interface IEngineStore
{
    /// <summary>
    /// Takes an A/B test's decision, once: stores <paramref name="winnerJson"/> and gives the operation's HELD messages the
    /// <paramref name="winner"/>'s variant, QUEUED (SCHEDULED while the operation waits for its start), with the counters,
    /// in one transaction. Answers how many moved; null when the decision was taken already (or there is no test).
    /// </summary>
    Task<long?> DecideWinnerAsync(long operationId, int winner, string winnerJson, long now, CancellationToken ct);

    /// <summary>
    /// How many messages of each variant were clicked (at least once, <c>Messages.ClickedAt</c>), the clicked metric's
    /// numerator; a variant without a click is absent.
    /// </summary>
    Task<IReadOnlyDictionary<int, long>> CountClickedByVariantAsync(long operationId, CancellationToken ct);
}
