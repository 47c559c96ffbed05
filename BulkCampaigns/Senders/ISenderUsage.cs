namespace BulkCampaigns.Senders;

/// <summary>
/// What the sending engine tells about senders, without this feature knowing the engine: whether an unfinished
/// operation uses one (so it isn't deleted under it), and a changed rate, taken at once.
/// </summary>
public interface ISenderUsage
{
    Task<bool> IsInUseAsync(long senderId, CancellationToken ct);

    void RateChanged(long senderId, int mps);
}
