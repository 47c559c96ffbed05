using System.Text.Json;
using BulkCampaigns.Api;
using BulkCampaigns.Auth;
using BulkCampaigns.Data;

namespace BulkCampaigns.Content;

public sealed record ContentTemplateRequest(string? Name, MessageContent? Content);

/// <summary>What to preview, for whom; <see cref="Channel"/> is the sender's channel (SMS, RCS, WHATSAPP) when known: on
/// WHATSAPP free text gets a warning and a Twilio template must be approved for WhatsApp.</summary>
public sealed record ContentPreviewRequest(MessageContent? Content, Dictionary<string, string>? Variables, string? GroupId, string? RecipientId, string? Address, string? Channel = null);

public sealed record ContentTemplateResponse(string Id, string Name, JsonElement Content, IReadOnlyList<string> Channels, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static ContentTemplateResponse From(ContentTemplateView view) => new(
        view.PublicId, view.Name, JsonSerializer.SerializeToElement(view.Content, ContentJson.Options), view.Channels,
        view.CreatedAt.UtcDateTime, view.UpdatedAt.UtcDateTime);
}

public sealed record ContentPreviewResponse(
    string Text,
    string Encoding,
    int Segments,
    int Characters,
    int Units,
    int RemainingInSegment,
    IReadOnlyList<string> Ucs2Characters,
    IReadOnlyList<string> UnknownVariables,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<RenderedChannel> Channels)
{
    public static ContentPreviewResponse From(ContentPreview p) => new(
        p.Text, p.Sms.EncodingName, p.Sms.Segments, p.Sms.Characters, p.Sms.Units, p.Sms.RemainingInSegment,
        p.Sms.Ucs2Characters, p.UnknownVariables, p.Warnings, p.Channels);
}

public sealed record ContentList(IReadOnlyList<ContentTemplateResponse> Content, Pagination Pagination);

/// <summary>The <c>/v1/Content</c> endpoints (docs/api.md: Content). They call <see cref="ContentService"/>, as the designer does.</summary>
public static class ContentApi
{
    public static IServiceCollection AddContent(this IServiceCollection services)
    {
        services.AddSingleton<ContentService>();
        services.AddSingleton<RequestContent>();
        return services;
    }

    public static RouteGroupBuilder MapContentApi(this RouteGroupBuilder v1)
    {
        var content = v1.MapGroup("/Content").WithTags("Content");

        content.MapGet("", async (HttpRequest request, ContentService service, CancellationToken ct) =>
        {
            var validation = new ApiValidation();
            var page = PageRequest.From(request, validation);
            if (!validation.IsValid)
            {
                return validation.ToResult();
            }
            var rows = await service.ListAsync(page.After, page.PageSize + 1, ct);
            var (items, pagination) = PageLinks.Page(request, page, rows, r => r.Id);
            return Results.Ok(new ContentList(items.Select(ContentTemplateResponse.From).ToList(), pagination));
        }).Produces<ContentList>().Describes("ListContent", "List content templates").Paged();

        content.MapGet("/{id}", async (string id, ContentService service, CancellationToken ct) =>
            PublicId.TryDecode(PublicId.Content, id, out var key) && await service.GetAsync(key, ct) is { } view
                ? Results.Ok(ContentTemplateResponse.From(view))
                : ApiError.NotFound($"No content template {id}.")).Produces<ContentTemplateResponse>()
            .Describes("GetContent", "Get a content template");

        content.MapPost("", async (ContentTemplateRequest? body, ContentService service, CancellationToken ct) =>
        {
            var result = await service.CreateAsync(body?.Name, body?.Content, ct);
            if (result.Template is not { } view)
            {
                return Problems(result.Problems);
            }
            return Results.Created($"/v1/Content/{view.PublicId}", ContentTemplateResponse.From(view));
        }).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces<ContentTemplateResponse>(201).Describes("CreateContent", "Create a content template");

        content.MapPut("/{id}", async (string id, ContentTemplateRequest? body, ContentService service, CancellationToken ct) =>
        {
            if (!PublicId.TryDecode(PublicId.Content, id, out var key))
            {
                return ApiError.NotFound($"No content template {id}.");
            }
            var result = await service.UpdateAsync(key, body?.Name, body?.Content, ct);
            if (result.NotFound)
            {
                return ApiError.NotFound($"No content template {id}.");
            }
            return result.Template is { } view ? Results.Ok(ContentTemplateResponse.From(view)) : Problems(result.Problems);
        }).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces<ContentTemplateResponse>().Describes("UpdateContent", "Replace a content template");

        content.MapDelete("/{id}", async (string id, ContentService service, CancellationToken ct) =>
            PublicId.TryDecode(PublicId.Content, id, out var key) && await service.DeleteAsync(key, ct)
                ? Results.NoContent()
                : ApiError.NotFound($"No content template {id}.")).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces(204)
            .Describes("DeleteContent", "Delete a content template");

        // Preview changes nothing, so a read-only key may call it.
        content.MapPost("/Preview", PreviewAsync).Produces<ContentPreviewResponse>().Describes("PreviewContent", "Preview content as a recipient would see it");
        return v1;
    }

    private static async Task<IResult> PreviewAsync(ContentPreviewRequest? body, ContentService service, CancellationToken ct)
    {
        var problems = new List<ContentProblem>();
        if (body?.Content is null)
        {
            problems.Add(new("content", "content is required: give text (with optional media), a contentId, or modules."));
        }
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        string? address = body?.Address;
        IReadOnlyList<string>? attributeKeys = null;

        if (body?.GroupId is { } groupText)
        {
            if (!PublicId.TryDecode(PublicId.Group, groupText, out var groupId) || await service.GroupAsync(groupId, ct) is not { } group)
            {
                problems.Add(new("groupId", $"No group {groupText}."));
            }
            else
            {
                attributeKeys = group.AttributeKeys;
                SampleRecipient? sample = null;
                if (body.RecipientId is { } recipientText)
                {
                    if (!PublicId.TryDecode(PublicId.Recipient, recipientText, out var recipientId) || (sample = await service.RecipientAsync(groupId, recipientId, ct)) is null)
                    {
                        problems.Add(new("recipientId", $"No recipient {recipientText} in group {groupText}."));
                    }
                }
                else
                {
                    sample = await service.SampleAsync(groupId, ct: ct);
                }
                if (sample is not null)
                {
                    foreach (var (name, value) in sample.Variables)
                    {
                        variables[name] = value;
                    }
                    address ??= sample.Address;
                }
            }
        }
        else if (body?.RecipientId is not null)
        {
            problems.Add(new("groupId", "recipientId needs the groupId of its group."));
        }
        foreach (var (name, value) in body?.Variables ?? [])
        {
            variables[name] = value ?? "";
        }

        var channel = ChannelNames.ForSender(body?.Channel);
        if (body?.Channel is not null && channel is null)
        {
            problems.Add(new("channel", "channel must be SMS, RCS or WHATSAPP: the channel of the sender it will go out on."));
        }

        MessageContent? content = body?.Content;
        if (content?.ContentId is not null && content.Modules is null && content.Text is null && content.Media is null)
        {
            var (resolved, problem) = await service.ResolveAsync(content, ct: ct);
            if (problem is not null)
            {
                problems.Add(problem);
            }
            content = resolved;
        }
        if (content is not null)
        {
            var checks = service.Validate(content);
            problems.AddRange(checks);
            if (checks.Count == 0 && content.IsTwilioTemplate)
            {
                // The template's text comes from the provider's catalogue, which also says what the mapping lacks.
                var (resolved, templateProblems) = await service.ResolveTwilioTemplateAsync(content, senderChannel: channel, ct: ct);
                problems.AddRange(templateProblems);
                content = resolved;
            }
        }
        if (problems.Count > 0 || content is null)
        {
            return Problems(problems);
        }
        var result = service.Preview(content, variables, address, attributeKeys);
        if (result.Preview is not { } preview)
        {
            return Problems(result.Problems);
        }
        var response = ContentPreviewResponse.From(preview);
        return ContentRules.WhatsAppWarning(content, channel) is { } warning
            ? Results.Ok(response with { Warnings = [.. response.Warnings, warning] })
            : Results.Ok(response);
    }

    /// <summary>One 400 listing every problem; when there is a Liquid syntax error, the message names its line and column.</summary>
    private static IResult Problems(IEnumerable<ContentProblem> problems)
    {
        var validation = new ApiValidation();
        ContentProblem? syntax = null;
        foreach (var problem in problems)
        {
            validation.Add(problem.Field, problem.Message);
            syntax ??= problem.IsSyntaxError ? problem : null;
        }
        return syntax is null ? validation.ToResult() : validation.ToResult($"{syntax.Field}: {syntax.Message}");
    }
}
