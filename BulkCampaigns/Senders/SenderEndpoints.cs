using System.Text.Json;
using BulkCampaigns.Api;
using BulkCampaigns.Auth;
using BulkCampaigns.Data;

namespace BulkCampaigns.Senders;

public sealed record CreateSenderRequest(string? Address, string? Channel,
    [property: DocumentedAsInteger(1, SenderService.MaxMps, "Messages per second the sender may send.")] JsonElement? Mps);

public sealed record UpdateSenderRequest(
    [property: DocumentedAsInteger(1, SenderService.MaxMps, "Messages per second the sender may send.")] JsonElement? Mps);

public sealed record SenderList(IReadOnlyList<SenderView> Senders, Pagination Pagination);

public static class SenderEndpoints
{
    public static RouteGroupBuilder MapSendersApi(this RouteGroupBuilder v1)
    {
        var senders = v1.MapGroup("/Senders").WithTags("Senders");
        senders.MapGet("/", async (HttpRequest request, SenderService service, CancellationToken ct) =>
        {
            var validation = new ApiValidation();
            var page = PageRequest.From(request, validation);
            if (!validation.IsValid)
            {
                return validation.ToResult();
            }
            var rows = await service.PageAsync(page.After, page.PageSize + 1, ct);
            var (items, pagination) = PageLinks.Page(request, page, rows, r => r.Key);
            return Results.Ok(new SenderList(items.Select(r => r.View).ToList(), pagination));
        }).Produces<SenderList>().Describes("ListSenders", "List senders").Paged();
        senders.MapGet("/{id}", async (string id, SenderService service, CancellationToken ct) =>
            PublicId.TryDecode(PublicId.Sender, id, out var key) && await service.GetAsync(key, ct) is { } s
                ? Results.Ok(s)
                : ApiError.NotFound($"No sender {id}.")).Produces<SenderView>().Describes("GetSender", "Get a sender");
        senders.MapPost("/", async (CreateSenderRequest body, SenderService service, CancellationToken ct) =>
        {
            var result = await service.CreateAsync(body.Address, body.Channel, ReadMps(body.Mps), ct);
            if (result.Sender is { } s)
            {
                return Results.Created($"/v1/Senders/{s.Id}", s);
            }
            return result.Conflict
                ? ApiError.Conflict(result.Errors[0].Message)
                : ApiError.BadRequest("The sender has problems; each is listed in errors.", result.Errors.Select(e => new ApiFieldError(e.Field, e.Message)));
        }).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces<SenderView>(201).Produces<ApiError>(409)
            .Describes("CreateSender", "Add a sender");
        senders.MapPatch("/{id}", async (string id, UpdateSenderRequest body, SenderService service, CancellationToken ct) =>
        {
            if (!PublicId.TryDecode(PublicId.Sender, id, out var key) || await service.UpdateMpsAsync(key, ReadMps(body.Mps), ct) is not { } result)
            {
                return ApiError.NotFound($"No sender {id}.");
            }
            return result.Sender is { } s
                ? Results.Ok(s)
                : ApiError.BadRequest("The sender has problems; each is listed in errors.", result.Errors.Select(e => new ApiFieldError(e.Field, e.Message)));
        }).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces<SenderView>().Describes("UpdateSender", "Change a sender's pace");
        senders.MapDelete("/{id}", async (string id, SenderService service, CancellationToken ct) =>
        {
            if (!PublicId.TryDecode(PublicId.Sender, id, out var key))
            {
                return ApiError.NotFound($"No sender {id}.");
            }
            return await service.DeleteAsync(key, ct) switch
            {
                null => ApiError.NotFound($"No sender {id}."),
                false => ApiError.Conflict("An unfinished operation uses this sender; finish or cancel it first."),
                true => Results.NoContent(),
            };
        }).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces(204).Produces<ApiError>(409)
            .Describes("DeleteSender", "Delete a sender");
        return v1;
    }

    private static int? ReadMps(JsonElement? value) =>
        value is { ValueKind: JsonValueKind.Number } v && v.TryGetInt32(out var n) ? n : null;
}
