using System.Text.Json;
using System.Text.Json.Serialization;

namespace BulkCampaigns.Content;

/// <summary>
/// A message's content (docs/api.md: Content). One of: <see cref="Text"/> (with optional <see cref="Media"/>),
/// <see cref="ContentId"/> (a saved content), <see cref="Modules"/> (per-channel content with fallback,
/// as Twilio's channel modules), or <see cref="ContentSid"/> (a Twilio template, <c>HX…</c>, with
/// <see cref="ContentVariables"/>). Every text field and every template variable's value may hold Liquid.
/// </summary>
/// <remarks>Mutable so the designer can bind to it; the API reads and writes the same shape.</remarks>
public sealed class MessageContent
{
    public string? Text { get; set; }
    public List<string>? Media { get; set; }
    public string? ContentId { get; set; }
    public List<ContentModule>? Modules { get; set; }

    /// <summary>A Twilio template (<c>HX</c> + 32 hex), sent as <c>ContentSid</c> instead of a body.</summary>
    public string? ContentSid { get; set; }

    /// <summary>The template's variables (<c>"1"</c>, <c>"2"</c>…) mapped to Liquid, rendered per recipient into <c>ContentVariables</c>.</summary>
    public Dictionary<string, string>? ContentVariables { get; set; }

    /// <summary>
    /// The Twilio template's text (with its <c>{{1}}</c> placeholders) as it was when the content was checked against the
    /// catalogue: an operation keeps it, so what the phone shows can be rendered, stored and found again after a crash
    /// without asking Twilio. Set by the server; whatever a request gives here is dropped.
    /// </summary>
    public string? TemplateText { get; set; }

    /// <summary>
    /// Every <c>http(s)</c> URL of the rendered text is sent as a short link of this app that counts clicks (<c>Links/</c>).
    /// The API's default is off; the campaign wizard turns it on.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool TrackLinks { get; set; }

    /// <summary>An A/B test: 2–5 variants, each a content of its own, sent in proportion to their weights (docs/api.md: A/B variants).</summary>
    public List<ContentVariant>? Variants { get; set; }

    /// <summary>With <see cref="Variants"/>: send a share first, then the best variant to the rest.</summary>
    public VariantTest? Test { get; set; }

    [JsonIgnore]
    public bool IsTwilioTemplate => ContentSid is not null;

    public static MessageContent FromText(string text, params string[] media) =>
        new() { Text = text, Media = media.Length > 0 ? [.. media] : null };

    public MessageContent Clone() => FromJson(ToJson());

    public string ToJson() => JsonSerializer.Serialize(this, ContentJson.Options);

    public static MessageContent FromJson(string json) =>
        JsonSerializer.Deserialize<MessageContent>(json, ContentJson.Options) ?? new MessageContent();

    /// <summary>The channels this content can be sent on: <c>SMS</c>/<c>MMS</c> for text, each module's channel otherwise.</summary>
    public IReadOnlyList<string> Channels()
    {
        if (Variants is { Count: > 0 })
        {
            return Variants.Where(v => v?.Content is not null).SelectMany(v => v.Content!.Channels()).Distinct().ToList();
        }
        if (Modules is { Count: > 0 })
        {
            return Modules.Select(m => m.Channel).Where(c => c is not null).Select(c => c!).Distinct().ToList();
        }
        if (ContentId is not null)
        {
            return [];
        }
        if (ContentSid is not null)
        {
            // Twilio picks the channel's form of the template: one content for every channel.
            return [ChannelNames.Sms, ChannelNames.Rcs, ChannelNames.WhatsApp];
        }
        return Media is { Count: > 0 } ? ["MMS"] : ["SMS"];
    }

    /// <summary>The SMS text this content sends (the text, or the SMS module's fallback), if any.</summary>
    [JsonIgnore]
    public string? SmsText => Variants is { Count: > 0 } ? Variants[0]?.Content?.SmsText : Modules is { Count: > 0 } ? Modules.FirstOrDefault(m => m.Sms is not null)?.Sms?.Text : Text;
}

/// <summary>One arm of an A/B test: its name (shown on the dashboard and each message), its share of the audience, its content.</summary>
public sealed class ContentVariant
{
    public string? Name { get; set; }
    public double? Weight { get; set; }
    public MessageContent? Content { get; set; }
}

/// <summary>
/// Test-then-winner: <see cref="Share"/> % of the audience first, split across the variants; <see cref="DecideAfter"/>
/// (ISO 8601, from the launch) later the variant with the best rate of <see cref="Metric"/> goes to the rest.
/// </summary>
public sealed class VariantTest
{
    public double? Share { get; set; }
    public string? DecideAfter { get; set; }
    public string? Metric { get; set; }
}

/// <summary>One channel's content: exactly one of <see cref="Sms"/>, <see cref="Rcs"/> or <see cref="Whatsapp"/>.</summary>
public sealed class ContentModule
{
    public SmsModule? Sms { get; set; }
    public RichModule? Rcs { get; set; }
    public RichModule? Whatsapp { get; set; }

    [JsonIgnore]
    public string? Channel =>
        Sms is not null ? ChannelNames.Sms : Rcs is not null ? ChannelNames.Rcs : Whatsapp is not null ? ChannelNames.WhatsApp : null;

    [JsonIgnore]
    public RichModule? Rich => Rcs ?? Whatsapp;
}

public sealed class SmsModule
{
    public string? Text { get; set; }
    public List<string>? Media { get; set; }
}

/// <summary>RCS or WhatsApp: a text, or a rich card, with optional media.</summary>
public sealed class RichModule
{
    public string? Text { get; set; }
    public List<string>? Media { get; set; }
    public RichCard? RichCard { get; set; }
}

public sealed class RichCard
{
    public string? Title { get; set; }
    public string? Description { get; set; }
    public List<string>? Media { get; set; }
    public List<CardSuggestion>? Suggestions { get; set; }
}

/// <summary>A suggested reply (<c>REPLY</c>) or link (<c>URL</c>) under a rich card.</summary>
public sealed class CardSuggestion
{
    public string? Type { get; set; }
    public string? Title { get; set; }
    public string? Url { get; set; }
}

public static class ContentJson
{
    /// <summary>How content is stored and compared: camelCase like the API, nulls left out.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
