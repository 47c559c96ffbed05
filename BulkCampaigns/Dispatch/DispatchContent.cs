using BulkCampaigns.Operations;
using System.Text.Json;
using BulkCampaigns.Api;
using BulkCampaigns.Content;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// The text template and media a message is rendered from, for one channel. For a Twilio template, <see cref="Text"/> is the
/// template's text (what the phone shows once its placeholders are filled) and <see cref="ContentVariables"/> the Liquid of each variable.
/// </summary>
public sealed record ResolvedContent(string Text, IReadOnlyList<string> Media, string? ContentSid = null, IReadOnlyDictionary<string, string>? ContentVariables = null);

/// <summary>
/// Where a stored content (<c>{"contentId": "cnt_…"}</c>) is looked up. The content feature registers its
/// own; until then none is found. It returns the stored content object (text/media or modules) as JSON.
/// </summary>
public interface IStoredContentSource
{
    Task<string?> FindContentJsonAsync(string contentId, CancellationToken ct);

    /// <summary>
    /// Checks a Twilio template content against the provider's catalogue (on a WhatsApp <paramref name="senderChannel"/>, its
    /// approval too) and returns it with the template's text taken in, or null with the problems.
    /// </summary>
    Task<(MessageContent? Content, IReadOnlyList<ContentProblem> Problems)> ResolveTwilioTemplateAsync(MessageContent content, string? senderChannel, CancellationToken ct);
}

/// <summary>
/// Reads the API's content object into <see cref="MessageContent"/> and checks it with <see cref="ContentRules"/>, the
/// rules the designer, the preview and <c>/v1/Content</c> use, so every door accepts and refuses the same contents.
/// </summary>
public static class DispatchContent
{
    /// <summary>
    /// Checks a content object and returns the JSON to store with the operation (a stored content is
    /// copied, so later edits don't change an operation already made), or null with problems added.
    /// </summary>
    /// <remarks>A Twilio template is checked against the catalogue and stored with its text (see <see cref="MessageContent.TemplateText"/>).</remarks>
    public static async Task<string?> PrepareAsync(JsonElement content, IStoredContentSource stored, TemplateRenderer renderer, ApiValidation validation, CancellationToken ct, string? senderChannel = null)
    {
        if (Read(content, validation) is not { } model)
        {
            return null;
        }
        if (!Check(model, renderer, validation))
        {
            return null;
        }
        if (model.ContentId is null)
        {
            return await WithTemplateAsync(model, stored, validation, senderChannel, ct);
        }
        var json = await stored.FindContentJsonAsync(model.ContentId, ct);
        if (json is null)
        {
            validation.Add("content.contentId", $"No stored content {model.ContentId}.");
            return null;
        }
        // A template saved before today's rules may break them; it is checked as if it had been sent inline.
        var template = MessageContent.FromJson(json);
        return Check(template, renderer, validation, allowContentId: false) ? await WithTemplateAsync(template, stored, validation, senderChannel, ct) : null;
    }

    private static async Task<string?> WithTemplateAsync(MessageContent model, IStoredContentSource stored, ApiValidation validation, string? senderChannel, CancellationToken ct)
    {
        if (!model.IsTwilioTemplate)
        {
            return model.ToJson();
        }
        var (resolved, problems) = await stored.ResolveTwilioTemplateAsync(model, senderChannel, ct);
        foreach (var problem in problems)
        {
            validation.Add(problem.Field, problem.Message);
        }
        return problems.Count == 0 ? resolved?.ToJson() : null;
    }

    /// <summary>The content object as the model every door shares; a value of the wrong type is named by its path.</summary>
    public static MessageContent? Read(JsonElement content, ApiValidation validation)
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
            return model;
        }
        catch (JsonException ex)
        {
            var (field, message) = ApiPlumbing.DescribeJsonError(ex);
            validation.Add(field is null ? "content" : $"content.{field}", field is null ? message : $"content.{field} has a value of the wrong type.");
            return null;
        }
    }

    private static bool Check(MessageContent content, TemplateRenderer renderer, ApiValidation validation, bool allowContentId = true)
    {
        var problems = ContentRules.Validate(content, renderer, "content", allowContentId);
        foreach (var problem in problems)
        {
            validation.Add(problem.Field, problem.Message);
        }
        return problems.Count == 0;
    }

    /// <summary>Picks what a sender's channel sends: the module for the channel, else the <c>sms</c> one, else inline text.</summary>
    public static ResolvedContent Resolve(string contentJson, string senderChannel)
    {
        using var doc = JsonDocument.Parse(contentJson);
        var root = doc.RootElement;
        if (root.TryGetProperty("contentSid", out var sid) && sid.ValueKind == JsonValueKind.String)
        {
            // A Twilio template: Twilio picks each channel's form of it, so every channel sends the same.
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("contentVariables", out var vars) && vars.ValueKind == JsonValueKind.Object)
            {
                foreach (var v in vars.EnumerateObject().Where(v => v.Value.ValueKind == JsonValueKind.String))
                {
                    variables[v.Name] = v.Value.GetString()!;
                }
            }
            var templateText = root.TryGetProperty("templateText", out var tt) && tt.ValueKind == JsonValueKind.String ? tt.GetString()! : "";
            return new ResolvedContent(templateText, [], sid.GetString(), variables);
        }
        if (root.TryGetProperty("modules", out var modules) && modules.ValueKind == JsonValueKind.Array)
        {
            var wanted = senderChannel switch
            {
                ChannelNames.Rcs => "rcs",
                ChannelNames.WhatsApp => "whatsapp",
                _ => "sms",
            };
            JsonElement? chosen = null;
            JsonElement? fallback = null;
            foreach (var module in modules.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.Object))
            {
                foreach (var channel in module.EnumerateObject())
                {
                    if (chosen is null && (string.Equals(channel.Name, wanted, StringComparison.OrdinalIgnoreCase) ||
                        (wanted == "sms" && string.Equals(channel.Name, "mms", StringComparison.OrdinalIgnoreCase))))
                    {
                        chosen = channel.Value;
                    }
                    else if (fallback is null && string.Equals(channel.Name, "sms", StringComparison.OrdinalIgnoreCase))
                    {
                        fallback = channel.Value;
                    }
                }
            }
            if ((chosen ?? fallback) is { } picked)
            {
                var (text, media) = ReadModule(picked);
                return new ResolvedContent(text ?? "", media);
            }
        }
        var inline = root.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        return new ResolvedContent(inline, ReadMedia(root));
    }

    private static (string? Text, IReadOnlyList<string> Media) ReadModule(JsonElement module)
    {
        if (module.ValueKind != JsonValueKind.Object)
        {
            return (null, []);
        }
        if (module.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
        {
            return (text.GetString(), ReadMedia(module));
        }
        if (module.TryGetProperty("richCard", out var card) && card.ValueKind == JsonValueKind.Object)
        {
            var parts = new[] { "title", "description" }
                .Select(p => card.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null)
                .Where(p => !string.IsNullOrEmpty(p))
                .ToList();
            return (parts.Count == 0 ? null : string.Join('\n', parts), ReadMedia(card));
        }
        if (module.TryGetProperty("body", out var body) && body.ValueKind == JsonValueKind.String)
        {
            return (body.GetString(), ReadMedia(module));
        }
        return (null, []);
    }

    private static List<string> ReadMedia(JsonElement element)
    {
        if (!element.TryGetProperty("media", out var media))
        {
            return [];
        }
        return media.ValueKind switch
        {
            JsonValueKind.String => [media.GetString()!],
            JsonValueKind.Array => media.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.String).Select(m => m.GetString()!).ToList(),
            _ => [],
        };
    }
}
