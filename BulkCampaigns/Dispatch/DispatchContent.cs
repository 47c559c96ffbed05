using System.Text.Json;
using BulkCampaigns.Api;
using BulkCampaigns.Content;

namespace BulkCampaigns.Dispatch;

/// <summary>The text template and media a message is rendered from, for one channel.</summary>
public sealed record ResolvedContent(string Text, IReadOnlyList<string> Media);

/// <summary>
/// Where a stored content (<c>{"contentId": "cnt_…"}</c>) is looked up. The content feature registers its
/// own; until then none is found. It returns the stored content object (text/media or modules) as JSON.
/// </summary>
public interface IStoredContentSource
{
    Task<string?> FindContentJsonAsync(string contentId, CancellationToken ct);
}

/// <summary>Reads the API's content object: inline <c>text</c>/<c>media</c>, per-channel <c>modules</c>, or a stored <c>contentId</c>.</summary>
public static class DispatchContent
{
    /// <summary>
    /// Checks a content object and returns the JSON to store with the operation (a stored content is
    /// copied, so later edits don't change an operation already made), or null with problems added.
    /// </summary>
    public static async Task<string?> PrepareAsync(JsonElement content, IStoredContentSource stored, TemplateRenderer renderer, ApiValidation validation, CancellationToken ct)
    {
        if (content.ValueKind != JsonValueKind.Object)
        {
            validation.Add("content", "content must be an object with text, modules or contentId.");
            return null;
        }
        if (content.TryGetProperty("contentId", out var idElement))
        {
            var id = idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
            var json = string.IsNullOrEmpty(id) ? null : await stored.FindContentJsonAsync(id, ct);
            if (json is null)
            {
                validation.Add("content.contentId", $"No stored content {id}.");
                return null;
            }
            using var doc = JsonDocument.Parse(json);
            return CheckInline(doc.RootElement, renderer, validation, "content") ? json : null;
        }
        return CheckInline(content, renderer, validation, "content") ? content.GetRawText() : null;
    }

    private static bool CheckInline(JsonElement content, TemplateRenderer renderer, ApiValidation validation, string path)
    {
        var ok = true;
        var any = false;
        if (content.TryGetProperty("text", out var text))
        {
            any = true;
            ok &= CheckTemplate(text, renderer, validation, $"{path}.text");
        }
        if (content.TryGetProperty("media", out var media))
        {
            any = true;
            ok &= CheckMedia(media, validation, $"{path}.media");
        }
        if (content.TryGetProperty("modules", out var modules))
        {
            any = true;
            if (modules.ValueKind != JsonValueKind.Array || modules.GetArrayLength() == 0)
            {
                validation.Add($"{path}.modules", "modules must be a non-empty array of channel modules.");
                return false;
            }
            var i = 0;
            foreach (var module in modules.EnumerateArray())
            {
                var modulePath = $"{path}.modules[{i++}]";
                if (module.ValueKind != JsonValueKind.Object || !module.EnumerateObject().Any())
                {
                    validation.Add(modulePath, "a module is an object such as {\"sms\": {\"text\": \"…\"}}.");
                    ok = false;
                    continue;
                }
                foreach (var channel in module.EnumerateObject())
                {
                    var (moduleText, _) = ReadModule(channel.Value);
                    if (moduleText is null)
                    {
                        validation.Add($"{modulePath}.{channel.Name}", "the module needs a text (or a richCard with a title or description).");
                        ok = false;
                    }
                    else
                    {
                        ok &= CheckTemplateText(moduleText, renderer, validation, $"{modulePath}.{channel.Name}");
                    }
                }
            }
        }
        if (!any)
        {
            validation.Add(path, "content needs text, modules or contentId.");
            return false;
        }
        return ok;
    }

    private static bool CheckTemplate(JsonElement text, TemplateRenderer renderer, ApiValidation validation, string field)
    {
        if (text.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(text.GetString()))
        {
            validation.Add(field, "text must be a non-empty string.");
            return false;
        }
        return CheckTemplateText(text.GetString()!, renderer, validation, field);
    }

    private static bool CheckTemplateText(string text, TemplateRenderer renderer, ApiValidation validation, string field)
    {
        try
        {
            renderer.Parse(text);
            if (renderer.Problems(text) is [var problem, ..])
            {
                validation.Add(field, problem.Message); // an unknown filter
                return false;
            }
            return true;
        }
        catch (TemplateSyntaxException ex)
        {
            validation.Add(field, $"Liquid syntax error: {ex.Message}");
            return false;
        }
    }

    private static bool CheckMedia(JsonElement media, ApiValidation validation, string field)
    {
        if (media.ValueKind != JsonValueKind.Array || media.EnumerateArray().Any(m => m.ValueKind != JsonValueKind.String ||
            !Uri.TryCreate(m.GetString(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            validation.Add(field, "media must be an array of http(s) URLs.");
            return false;
        }
        return true;
    }

    /// <summary>Picks what a sender's channel sends: the module for the channel, else the <c>sms</c> one, else inline text.</summary>
    public static ResolvedContent Resolve(string contentJson, string senderChannel)
    {
        using var doc = JsonDocument.Parse(contentJson);
        var root = doc.RootElement;
        if (root.TryGetProperty("modules", out var modules) && modules.ValueKind == JsonValueKind.Array)
        {
            var wanted = senderChannel switch
            {
                "RCS" => "rcs",
                "WHATSAPP" => "whatsapp",
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
