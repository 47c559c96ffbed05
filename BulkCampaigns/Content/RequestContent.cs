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
    public async Task<string?> PrepareAsync(JsonElement content, ApiValidation validation, CancellationToken ct)
    {
        if (Read(content, validation) is not { } model)
        {
            return null;
        }
        if (!Check(model, validation))
        {
            return null;
        }
        if (model.ContentId is null)
        {
            return model.ToJson();
        }
        if (!PublicId.TryDecode(PublicId.Content, model.ContentId, out var id) || await templates.GetAsync(id, ct) is not { } stored)
        {
            validation.Add("content.contentId", $"No stored content {model.ContentId}.");
            return null;
        }
        // A template saved before today's rules may break them; it is checked as if it had been sent inline.
        var template = stored.Content;
        return Check(template, validation, allowContentId: false) ? template.ToJson() : null;
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
            return content.Deserialize<MessageContent>(ContentJson.Options);
        }
        catch (JsonException ex)
        {
            var (field, message) = ApiPlumbing.DescribeJsonError(ex);
            validation.Add(field is null ? "content" : $"content.{field}", field is null ? message : $"content.{field} has a value of the wrong type.");
            return null;
        }
    }

    private bool Check(MessageContent content, ApiValidation validation, bool allowContentId = true)
    {
        var problems = ContentRules.Validate(content, renderer, "content", allowContentId);
        foreach (var problem in problems)
        {
            validation.Add(problem.Field, problem.Message);
        }
        return problems.Count == 0;
    }
}
