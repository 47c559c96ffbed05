using System.Text.RegularExpressions;

namespace BulkCampaigns.Content.TwilioTemplates;

/// <summary>WhatsApp's verdict on a Twilio template: <c>approved</c>, <c>pending</c>, <c>rejected</c> or <c>unsubmitted</c>.</summary>
public sealed record TwilioTemplateApproval(string Whatsapp);

/// <summary>
/// A Twilio content template (<c>HX…</c>): one of the provider's, not the app's saved content (<see cref="ContentTemplate"/>).
/// <see cref="Variables"/> are its placeholders with Twilio's sample values; <see cref="Text"/> is what the phone shows
/// with <c>{{1}}</c>… still in it, <see cref="Preview"/> the same filled with the samples.
/// </summary>
public sealed record TwilioTemplate(
    string Sid,
    string FriendlyName,
    string Language,
    IReadOnlyDictionary<string, string> Variables,
    IReadOnlyList<string> Types,
    string Text,
    TwilioTemplateApproval Approval)
{
    public const string Approved = "approved";

    public string Preview => TwilioTemplateText.Fill(Text, Variables);

    public bool ApprovedForWhatsApp => Approval.Whatsapp == Approved;
}

/// <summary>The provider's templates as read at <see cref="ReadAt"/>.</summary>
public sealed record TwilioTemplateCatalogue(IReadOnlyList<TwilioTemplate> Templates, DateTimeOffset ReadAt)
{
    public TwilioTemplate? Find(string? sid) => sid is null ? null : Templates.FirstOrDefault(t => string.Equals(t.Sid, sid, StringComparison.Ordinal));
}

/// <summary>The templates could not be read (Twilio answered an error, or did not answer); the message says which, in plain words.</summary>
public sealed class TwilioTemplateCatalogueException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Where the templates come from: Twilio's Content API, or the Simulator's small built-in set.</summary>
public interface ITwilioTemplateSource
{
    /// <summary>The catalogue, from the cache unless <paramref name="refresh"/>; throws <see cref="TwilioTemplateCatalogueException"/>.</summary>
    Task<TwilioTemplateCatalogue> ListAsync(bool refresh, CancellationToken ct);
}

/// <summary>
/// Fills a template's <c>{{1}}</c> placeholders with values, as Twilio does before the phone shows it. The preview and the
/// send both fill through here, so the text the designer shows is the text the Simulator stores and recovery looks for.
/// </summary>
public static partial class TwilioTemplateText
{
    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")]
    private static partial Regex Placeholder();

    public static string Fill(string text, IReadOnlyDictionary<string, string> values) =>
        Placeholder().Replace(text, m => values.TryGetValue(m.Groups[1].Value, out var value) ? value : m.Value);

    /// <summary>The placeholder names of a template text, in order of first use.</summary>
    public static IReadOnlyList<string> Placeholders(string text) =>
        Placeholder().Matches(text).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).ToList();
}
