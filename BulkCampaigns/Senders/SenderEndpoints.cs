using System.Text.Json;
using BulkCampaigns.Api;
using BulkCampaigns.Auth;
using BulkCampaigns.Data;

namespace BulkCampaigns.Senders;

public sealed record CreateSenderRequest(string? Address, string? Channel, JsonElement? Mps);

public sealed record UpdateSenderRequest(JsonElement? Mps);

public static class SenderEndpoints
{
    public static RouteGroupBuilder MapSendersApi(this RouteGroupBuilder v1)
    {
        var senders = v1.MapGroup("/Senders").WithTags("Senders");
        senders.MapGet("/", async (SenderService service, CancellationToken ct) =>
            Results.Ok(new { senders = await service.ListAsync(ct) }));
        senders.MapGet("/{id}", async (string id, SenderService service, CancellationToken ct) =>
            PublicId.TryDecode(PublicId.Sender, id, out var key) && await service.GetAsync(key, ct) is { } s
                ? Results.Ok(s)
                : ApiError.NotFound($"No sender {id}."));
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
        }).RequireAuthorization(AuthSetup.ApiWritePolicy);
        senders.MapPatch("/{id}", async (string id, UpdateSenderRequest body, SenderService service, CancellationToken ct) =>
        {
            if (!PublicId.TryDecode(PublicId.Sender, id, out var key) || await service.UpdateMpsAsync(key, ReadMps(body.Mps), ct) is not { } result)
            {
                return ApiError.NotFound($"No sender {id}.");
            }
            return result.Sender is { } s
                ? Results.Ok(s)
                : ApiError.BadRequest("The sender has problems; each is listed in errors.", result.Errors.Select(e => new ApiFieldError(e.Field, e.Message)));
        }).RequireAuthorization(AuthSetup.ApiWritePolicy);
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
        }).RequireAuthorization(AuthSetup.ApiWritePolicy);
        return v1;
    }

    private static int? ReadMps(JsonElement? value) =>
        value is { ValueKind: JsonValueKind.Number } v && v.TryGetInt32(out var n) ? n : null;
}
