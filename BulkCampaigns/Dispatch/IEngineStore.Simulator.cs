namespace BulkCampaigns.Dispatch;

/// <summary>One message the simulated carrier accepted, and whether it will report it delivered.</summary>
public sealed record SimulatedSend(long MessageId, string From, string To, string Body, IReadOnlyList<string> Media, bool WillDeliver);

/// <summary>A round of the simulated carrier's delivery reports: how many stored sends it passed, and the operations it changed.</summary>
public sealed record SimulatedReports(int Handled, IReadOnlyCollection<long> Operations);

public partial interface IEngineStore
{
    /// <summary>
    /// Stores what the simulated carrier received, committed before the send counts as accepted, each row with its
    /// report due at <paramref name="reportDueAt"/>. Answers the stored IDs, in the order of <paramref name="sends"/>.
    /// </summary>
    Task<long[]> RecordSimulatedAsync(IReadOnlyList<SimulatedSend> sends, long now, long reportDueAt, CancellationToken ct);

    /// <summary>The first stored simulated send to <paramref name="to"/> from <paramref name="from"/> with this body, received at or after <paramref name="after"/>.</summary>
    Task<(long Id, DateTimeOffset ReceivedAt)?> FindSimulatedAsync(string from, string to, DateTimeOffset after, string body, CancellationToken ct);

    /// <summary>
    /// Applies the simulated reports that are due, in ID order, with the counters: a round stops before the first
    /// report not due yet or whose message is still being written as SENT, and takes at most <paramref name="limit"/>.
    /// Only SENT messages move on. It yields to sending (a background writer).
    /// </summary>
    Task<SimulatedReports> ReportSimulatedAsync(long now, int limit, CancellationToken ct);
}
