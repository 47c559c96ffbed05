using System.Text.Json;

namespace BulkCampaigns.Content;

/// <summary>
/// The text template and media a message is rendered from, for one channel. For a Twilio template, <see cref="Text"/> is the
/// template's text (what the phone shows once its placeholders are filled) and <see cref="ContentVariables"/> the Liquid of each variable.
/// </summary>
public sealed record ResolvedContent(string Text, IReadOnlyList<string> Media, string? ContentSid = null, IReadOnlyDictionary<string, string>? ContentVariables = null)
{
    /// <summary>The content's <c>trackLinks</c>: the text's URLs go out as short links.</summary>
    public bool TrackLinks { get; init; }
}

/// <summary>Which part of a stored content a sender's channel sends.</summary>
public static class ChannelContent
{
    /// <summary>Picks what a sender's channel sends: the module for the channel, else the <c>sms</c> one, else inline text.</summary>
    public static ResolvedContent Resolve(string contentJson, string senderChannel)
    {
        using var doc = JsonDocument.Parse(contentJson);
        var root = doc.RootElement;
        var resolved = Resolve(root, senderChannel);
        return root.TryGetProperty("trackLinks", out var track) && track.ValueKind == JsonValueKind.True ? resolved with { TrackLinks = true } : resolved;
    }

    private static ResolvedContent Resolve(JsonElement root, string senderChannel)
    {
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
