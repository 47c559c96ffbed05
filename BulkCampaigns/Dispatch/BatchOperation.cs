using BulkCampaigns.Operations;

namespace BulkCampaigns.Dispatch;

/// <summary>What a batch needs of its operation, read again at each status check.</summary>
public sealed record BatchOperation(long Id, OperationStatus Status, long SenderId, string FromAddress, string FromChannel, string ContentJson, int Mps)
{
    /// <summary>The operation's own limit below the sender's <see cref="Mps"/>; null: the sender's.</summary>
    public int? OperationMps { get; init; }
    public QuietHours? Quiet { get; init; }
}
