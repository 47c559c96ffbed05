using BulkCampaigns.Dispatch;
using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Operations;

/// <summary>
/// "The messages of one operation" for lists. An operation's messages are the IDs FirstMessageId..LastMessageId (one
/// writer inserts them all in one transaction), so a list in ID order reads that rowid range. Filtering on OperationId
/// instead lets SQLite pick the (OperationId, Address) index and sort the whole operation for every page (over 100 ms
/// at 1M messages). Only a search by address wants that index.
/// </summary>
public static class OperationMessages
{
    public static IQueryable<Message> WhereIn(IQueryable<Message> query, Operation operation, bool byAddress) =>
        byAddress
            ? query.Where(m => m.OperationId == operation.Id)
            : query.Where(m => m.Id >= operation.FirstMessageId && m.Id <= operation.LastMessageId);

    public static async Task<IQueryable<Message>> WhereInAsync(AppDbContext db, IQueryable<Message> query, long operationId, bool byAddress, CancellationToken ct)
    {
        if (byAddress)
        {
            return query.Where(m => m.OperationId == operationId);
        }
        var range = await db.Set<Operation>().AsNoTracking().Where(o => o.Id == operationId)
            .Select(o => new { o.FirstMessageId, o.LastMessageId }).FirstOrDefaultAsync(ct);
        // An unknown operation (or one with no messages: LastMessageId 0) lists nothing.
        return range is null
            ? query.Where(m => false)
            : query.Where(m => m.Id >= range.FirstMessageId && m.Id <= range.LastMessageId);
    }
}
