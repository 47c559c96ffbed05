using BulkCampaigns.Dispatch;
using BulkCampaigns.Data;
using BulkCampaigns.Senders;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Operations;

/// <summary>A sender is in use while an operation from it is scheduled, processing or paused; its rate is the pacer's.</summary>
public sealed class OperationSenderUsage(IDbContextFactory<AppDbContext> dbFactory, SenderPacer pacer) : ISenderUsage
{
    public async Task<bool> IsInUseAsync(long senderId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<Operation>().AnyAsync(o => o.SenderId == senderId &&
            (o.Status == OperationStatus.Scheduled || o.Status == OperationStatus.Processing || o.Status == OperationStatus.Paused), ct);
    }

    public void RateChanged(long senderId, int mps) => pacer.SetRate(senderId, mps);
}
