using BulkCampaigns.Api;
using BulkCampaigns.Data;
using BulkCampaigns.Operations;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Links;

public sealed record LinkList(IReadOnlyList<LinkStats> Links);

/// <summary><c>GET /v1/Messages/Operations/{id}/Links</c>: an operation's tracked links with their clicks (the most clicked first).</summary>
public static class LinksApi
{
    public static RouteGroupBuilder MapLinksApi(this RouteGroupBuilder v1)
    {
        v1.MapGroup("/Messages").WithTags("Messages")
            .MapGet("/Operations/{id}/Links", async (string id, IDbContextFactory<AppDbContext> dbFactory, LinkQueries queries, CancellationToken ct) =>
            {
                if (!PublicId.TryDecode(PublicId.Operation, id, out var key))
                {
                    return ApiError.NotFound($"No operation {id}.");
                }
                await using (var db = await dbFactory.CreateDbContextAsync(ct))
                {
                    if (!await db.Set<Operation>().AnyAsync(o => o.Id == key, ct))
                    {
                        return ApiError.NotFound($"No operation {id}.");
                    }
                }
                return Results.Ok(new LinkList(await queries.LinksAsync(key, ct: ct)));
            })
            .Produces<LinkList>()
            .Describes("ListOperationLinks", "List an operation's tracked links with their clicks");
        return v1;
    }
}
