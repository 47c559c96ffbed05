using System.Text.Json;
using BulkCampaigns.Api;
using BulkCampaigns.Auth;
using BulkCampaigns.Data;

namespace BulkCampaigns.Recipients.Segments;

/// <summary><c>/v1/Segments</c> (docs/api.md: Segments).</summary>
internal static class SegmentsApi
{
    /// <summary>A segment to save: its name, its groups (none: every group) and its filter (none: everyone in them).</summary>
    public sealed record SegmentBody(string? Name, IReadOnlyList<string?>? GroupIds, JsonElement? Filter);

    /// <summary>A filter to count over some groups (none: every group).</summary>
    public sealed record CountBody(IReadOnlyList<string?>? GroupIds, JsonElement? Filter);

    public sealed record CountDto(long RecipientCount, long Suppressed);

    public sealed record SegmentDto(string Id, string Name, IReadOnlyList<string> GroupIds, JsonElement Filter, long RecipientCount, long Suppressed,
        DateTime? CountedAt, DateTime CreatedAt, DateTime UpdatedAt);

    public sealed record SegmentList(IEnumerable<SegmentDto> Segments, Pagination Pagination);

    public sealed record SegmentRecipientList(IEnumerable<GroupsApi.RecipientDto> Recipients, Pagination Pagination);

    public static void Map(RouteGroupBuilder v1)
    {
        var segments = v1.MapGroup("/Segments").WithTags("Segments");
        segments.MapPost("/", CreateAsync).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces<SegmentDto>(201).Describes("CreateSegment", "Save a segment");
        segments.MapPost("/Count", CountAsync).Produces<CountDto>().Describes("CountSegment", "Count the recipients a filter picks, now");
        segments.MapGet("/", ListAsync).Produces<SegmentList>().Describes("ListSegments", "List segments").Paged();
        segments.MapGet("/{id}", GetAsync).Produces<SegmentDto>().Describes("GetSegment", "Get a segment");
        segments.MapPut("/{id}", UpdateAsync).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces<SegmentDto>().Describes("UpdateSegment", "Replace a segment's name, groups and filter");
        segments.MapDelete("/{id}", DeleteAsync).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces(204).Produces<ApiError>(409).Describes("DeleteSegment", "Delete a segment");
        segments.MapGet("/{id}/Recipients", RecipientsAsync).Produces<SegmentRecipientList>().Describes("ListSegmentRecipients", "List the recipients a segment picks, now").Paged();
    }

    private static IResult NotFound(string id) => ApiError.NotFound($"No segment {id}.");

    internal static SegmentDto ToDto(SegmentView s)
    {
        using var doc = JsonDocument.Parse(s.FilterJson);
        return new(s.Id, s.Name, s.GroupIds, doc.RootElement.Clone(), s.RecipientCount, s.Suppressed, s.CountedAt?.UtcDateTime, s.CreatedAt.UtcDateTime, s.UpdatedAt.UtcDateTime);
    }

    private static async Task<IResult> CreateAsync(SegmentBody? body, SegmentService segments, CancellationToken ct)
    {
        var validation = new ApiValidation();
        var draft = await segments.CheckAsync(body?.Name, body?.GroupIds, body?.Filter, validation, nameRequired: true, ct);
        if (draft is null)
        {
            return validation.ToResult();
        }
        var segment = await segments.CreateAsync(draft, ct);
        return Results.Created($"/v1/Segments/{segment.Id}", ToDto(segment));
    }

    private static async Task<IResult> UpdateAsync(string id, SegmentBody? body, SegmentService segments, CancellationToken ct)
    {
        if (!PublicId.TryDecode(PublicId.Segment, id, out var key) || await segments.GetAsync(key, ct) is null)
        {
            return NotFound(id);
        }
        var validation = new ApiValidation();
        var draft = await segments.CheckAsync(body?.Name, body?.GroupIds, body?.Filter, validation, nameRequired: true, ct);
        if (draft is null)
        {
            return validation.ToResult();
        }
        return await segments.UpdateAsync(key, draft, ct) is { } segment ? Results.Ok(ToDto(segment)) : NotFound(id);
    }

    private static async Task<IResult> CountAsync(CountBody? body, SegmentService segments, CancellationToken ct)
    {
        var validation = new ApiValidation();
        var draft = await segments.CheckAsync(null, body?.GroupIds, body?.Filter, validation, nameRequired: false, ct);
        if (draft is null)
        {
            return validation.ToResult();
        }
        var (count, suppressed) = await segments.CountAsync(draft, ct);
        return Results.Ok(new CountDto(count, suppressed));
    }

    private static async Task<IResult> ListAsync(HttpRequest request, SegmentService segments, CancellationToken ct)
    {
        var validation = new ApiValidation();
        var page = PageRequest.From(request, validation);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        var rows = await segments.ListAsync(page.After, page.PageSize + 1, ct);
        var (items, pagination) = PageLinks.Page(request, page, rows, s => s.Key);
        return Results.Ok(new SegmentList(items.Select(ToDto), pagination));
    }

    private static async Task<IResult> GetAsync(string id, SegmentService segments, CancellationToken ct) =>
        PublicId.TryDecode(PublicId.Segment, id, out var key) && await segments.GetAsync(key, ct) is { } segment
            ? Results.Ok(ToDto(segment))
            : NotFound(id);

    private static async Task<IResult> DeleteAsync(string id, SegmentService segments, CancellationToken ct)
    {
        if (!PublicId.TryDecode(PublicId.Segment, id, out var key))
        {
            return NotFound(id);
        }
        return await segments.DeleteAsync(key, ct) switch
        {
            DeleteSegmentResult.Deleted => Results.NoContent(),
            DeleteSegmentResult.InUse => ApiError.Conflict("An unfinished operation was made from this segment; cancel it or wait until it ends."),
            _ => NotFound(id),
        };
    }

    private static async Task<IResult> RecipientsAsync(string id, HttpRequest request, SegmentService segments, ISegmentStore store, CancellationToken ct)
    {
        var validation = new ApiValidation();
        var page = PageRequest.From(request, validation);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        if (!PublicId.TryDecode(PublicId.Segment, id, out var key) || await segments.LoadAsync(key, ct) is not { } draft)
        {
            return NotFound(id);
        }
        var rows = await store.PageAsync(draft.GroupIds, segments.Compile(draft.Filter), page.After, page.PageSize + 1, ct);
        var (items, pagination) = PageLinks.Page(request, page, rows, r => r.Key);
        return Results.Ok(new SegmentRecipientList(items.Select(r => new GroupsApi.RecipientDto(r.Id, r.Address, r.Channel, r.Variables, r.CreatedAt.UtcDateTime)), pagination));
    }
}
