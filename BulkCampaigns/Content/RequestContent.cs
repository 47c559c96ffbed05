using System.Text.Json;
using BulkCampaigns.Api;
using BulkCampaigns.Data;

namespace BulkCampaigns.Content;

/// <summary>
/// A request's <c>content</c> object (<c>POST /v1/Messages</c>, the wizard): read once into <see cref="MessageContent"/>
/// and checked by <see cref="ContentRules"/>, the rules the designer, the preview and <c>/v1/Content</c> use, so every
/// door accepts and refuses the same contents.
/// </summary>
public sealed class RequestContent(ContentService templates, TemplateRenderer renderer)
{
    /// <summary>
    /// Checks a content object and returns the JSON to store with the operation (a stored content is
    /// copied, so later edits don't change an operation already made), or null with problems added.
    /// </summary>
    /// <remarks>A Twilio template is checked against the catalogue (on a WhatsApp <paramref name="senderChannel"/>, its
    /// approval too) and stored with its text (see <see cref="MessageContent.TemplateText"/>).</remarks>
    public async Task<string?> PrepareAsync(JsonElement content, ApiValidation validation, CancellationToken ct, string? senderChannel = null)
    {
        if (Read(content, validation) is not { } model)
        {
            return null;
        }
        if (!Check(model, validation))
        {
            return null;
        }
        if (model.Variants is not { } variants)
        {
            return (await PrepareOneAsync(model, "content", validation, senderChannel, ct))?.ToJson();
        }
        // Each variant's content is prepared as if it had been sent alone (a stored one copied, a Twilio template resolved).
        var ok = true;
        foreach (var (variant, i) in variants.Select((v, i) => (v, i)))
        {
            variant.Name = variant.Name!.Trim();
            if (await PrepareOneAsync(variant.Content!, $"content.variants[{i}].content", validation, senderChannel, ct) is { } prepared)
            {
                variant.Content = prepared;
            }
            else
            {
                ok = false;
            }
        }
        return ok ? model.ToJson() : null;
    }

    private async Task<MessageContent?> PrepareOneAsync(MessageContent model, string prefix, ApiValidation validation, string? senderChannel, CancellationToken ct)
    {
        if (model.ContentId is null)
        {
            return await WithTemplateAsync(model, prefix, validation, senderChannel, ct);
        }
        if (!PublicId.TryDecode(PublicId.Content, model.ContentId, out var id) || await templates.GetAsync(id, ct) is not { } stored)
        {
            validation.Add($"{prefix}.contentId", $"No stored content {model.ContentId}.");
            return null;
        }
        // A template saved before today's rules may break them; it is checked as if it had been sent inline.
        var template = stored.Content.Clone();
        if (template.Variants is not null && prefix != "content")
        {
            validation.Add($"{prefix}.contentId", $"{model.ContentId} is an A/B test itself; a variant can't hold variants of its own.");
            return null;
        }
        // Whether links are tracked is the send's choice: a saved template is the text, the request says how it goes out.
        template.TrackLinks = model.TrackLinks;
        return Check(template, validation, allowContentId: false, prefix) ? await WithTemplateAsync(template, prefix, validation, senderChannel, ct) : null;
    }

    private async Task<MessageContent?> WithTemplateAsync(MessageContent model, string prefix, ApiValidation validation, string? senderChannel, CancellationToken ct)
    {
        if (model.Variants is { } variants)
        {
            // A stored A/B content: its variants' templates are resolved like an inline one's.
            var ok = true;
            for (var i = 0; i < variants.Count; i++)
            {
                if (await WithTemplateAsync(variants[i].Content!, $"{prefix}.variants[{i}].content", validation, senderChannel, ct) is { } inner)
                {
                    variants[i].Content = inner;
                }
                else
                {
                    ok = false;
                }
            }
            return ok ? model : null;
        }
        if (!model.IsTwilioTemplate)
        {
            return model;
        }
        var (resolved, problems) = await templates.ResolveTwilioTemplateAsync(model, prefix, senderChannel, ct);
        foreach (var problem in problems)
        {
            validation.Add(problem.Field, problem.Message);
        }
        return problems.Count == 0 ? resolved : null;
    }

    /// <summary>The content object as the model every door shares; a value of the wrong type is named by its path.</summary>
    private static MessageContent? Read(JsonElement content, ApiValidation validation)
    {
        if (content.ValueKind != JsonValueKind.Object)
        {
            validation.Add("content", "content must be an object with text, modules or contentId.");
            return null;
        }
        try
        {
            var model = content.Deserialize<MessageContent>(ContentJson.Options);
            // The server takes the template's text from the catalogue; a request does not get to say what the phone shows.
            model?.TemplateText = null;
            foreach (var variant in model?.Variants ?? [])
            {
                variant?.Content?.TemplateText = null;
            }
            return model;
        }
        catch (JsonException ex)
        {
            var (field, message) = ApiPlumbing.DescribeJsonError(ex);
            validation.Add(field is null ? "content" : $"content.{field}", field is null ? message : $"content.{field} has a value of the wrong type.");
            return null;
        }
    }

    private bool Check(MessageContent content, ApiValidation validation, bool allowContentId = true, string prefix = "content")
    {
        var problems = ContentRules.Validate(content, renderer, prefix, allowContentId);
        foreach (var problem in problems)
        {
            validation.Add(problem.Field, problem.Message);
        }
        return problems.Count == 0;
    }
}
