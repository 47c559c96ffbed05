using BulkCampaigns.Dispatch;
using BulkCampaigns.Recipients;

namespace BulkCampaigns.Operations;

/// <summary>A group is in use while an operation made from it is scheduled, processing or paused.</summary>
public sealed class OperationGroupUsage(IEngineStore store) : IGroupUsage
{
    public Task<bool> IsInUseAsync(long groupId, CancellationToken ct) => store.IsGroupInUseAsync(groupId, ct);
}
