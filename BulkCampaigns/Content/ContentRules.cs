using System.Text.RegularExpressions;
using BulkCampaigns.Content.TwilioTemplates;
using Fluid;

namespace BulkCampaigns.Content;

/// <summary>A problem with one field of a content; <see cref="Line"/> and <see cref="Column"/> are set for Liquid syntax errors.</summary>
public sealed record ContentProblem(string Field, string Message, int Line = 0, int Column = 0)
{
    public bool IsSyntaxError => Line > 0;
}

/// <summary>
/// What a valid content is. The API, the designer and the campaign wizard all check content here, so
/// they accept and refuse the same things.
/// </summary>
public static partial class ContentRules
{
    public const int MaxNameLength = 200;

    /// <summary>Twilio's longest message body.</summary>
    public const int MaxTextLength = 1600;

    public const int MaxMedia = 10;
    public const int MaxUrlLength = 2048;
    public const int MaxTitleLength = 200;
    public const int MaxDescriptionLength = 2000;
    public const int MaxSuggestions = 4;
    public const int MaxSuggestionTitleLength = 25;

    /// <summary>Most variables one Twilio template mapping may hold.</summary>
    public const int MaxTemplateVariables = 100;

    /// <summary>Twilio's limit for one <c>ContentVariables</c> value, as for a body: checked on the Liquid and on each rendered value.</summary>
    public const int MaxTemplateValueLength = 1600;

    [GeneratedRegex("^HX[0-9a-fA-F]{32}$")]
    private static partial Regex ContentSidForm();

    [GeneratedRegex("^[A-Za-z0-9_]{1,64}$")]
    private static partial Regex VariableNameForm();

    public static bool LooksLikeContentSid(string? sid) => sid is not null && ContentSidForm().IsMatch(sid);

    /// <summary>Every Liquid text of a content with the API field it comes from.</summary>
    public static IEnumerable<(string Field, string Text)> TextFields(MessageContent content, string prefix = "content")
    {
        for (var v = 0; v < (content.Variants?.Count ?? 0); v++)
        {
            if (content.Variants![v]?.Content is { } inner && inner.Variants is null)
            {
                foreach (var field in TextFields(inner, $"{prefix}.variants[{v}].content"))
                {
                    yield return field;
                }
            }
        }
        if (content.Text is not null)
        {
            yield return ($"{prefix}.text", content.Text);
        }
        foreach (var media in MediaFields(content.Media, $"{prefix}.media"))
        {
            yield return media;
        }
        foreach (var (name, value) in content.ContentVariables ?? [])
        {
            if (value is not null)
            {
                yield return ($"{prefix}.contentVariables.{name}", value);
            }
        }
        for (var i = 0; i < (content.Modules?.Count ?? 0); i++)
        {
            var module = content.Modules![i];
            if (module.Sms is { } sms)
            {
                var path = $"{prefix}.modules[{i}].sms";
                if (sms.Text is not null)
                {
                    yield return ($"{path}.text", sms.Text);
                }
                foreach (var media in MediaFields(sms.Media, $"{path}.media"))
                {
                    yield return media;
                }
            }
            foreach (var (rich, name) in new[] { (module.Rcs, "rcs"), (module.Whatsapp, "whatsapp") })
            {
                if (rich is null)
                {
                    continue;
                }
                var path = $"{prefix}.modules[{i}].{name}";
                if (rich.Text is not null)
                {
                    yield return ($"{path}.text", rich.Text);
                }
                foreach (var media in MediaFields(rich.Media, $"{path}.media"))
                {
                    yield return media;
                }
                if (rich.RichCard is { } card)
                {
                    if (card.Title is not null)
                    {
                        yield return ($"{path}.richCard.title", card.Title);
                    }
                    if (card.Description is not null)
                    {
                        yield return ($"{path}.richCard.description", card.Description);
                    }
                    foreach (var media in MediaFields(card.Media, $"{path}.richCard.media"))
                    {
                        yield return media;
                    }
                    for (var s = 0; s < (card.Suggestions?.Count ?? 0); s++)
                    {
                        var suggestion = card.Suggestions![s];
                        if (suggestion.Title is not null)
                        {
                            yield return ($"{path}.richCard.suggestions[{s}].title", suggestion.Title);
                        }
                        if (suggestion.Url is not null)
                        {
                            yield return ($"{path}.richCard.suggestions[{s}].url", suggestion.Url);
                        }
                    }
                }
            }
        }
    }

    private static IEnumerable<(string, string)> MediaFields(List<string>? media, string path)
    {
        for (var i = 0; i < (media?.Count ?? 0); i++)
        {
            if (media![i] is { } url)
            {
                yield return ($"{path}[{i}]", url);
            }
        }
    }

    /// <summary>Every problem of a content, Liquid syntax included. A <c>contentId</c> is checked for form only.</summary>
    public static List<ContentProblem> Validate(MessageContent? content, TemplateRenderer renderer, string prefix = "content", bool allowContentId = true)
    {
        var problems = new List<ContentProblem>();
        if (content is null)
        {
            problems.Add(new(prefix, "content is required: give text (with optional media), a contentId, modules, or a contentSid."));
            return problems;
        }
        if (content.Variants is not null || content.Test is not null)
        {
            CheckVariants(problems, content, renderer, prefix, allowContentId);
            return problems;
        }
        var forms = (content.Text is not null || content.Media is { Count: > 0 } ? 1 : 0) + (content.ContentId is not null ? 1 : 0) + (content.Modules is not null ? 1 : 0)
            + (content.ContentSid is not null ? 1 : 0);
        if (forms == 0)
        {
            problems.Add(new(content.ContentVariables is null ? prefix : $"{prefix}.contentSid",
                content.ContentVariables is null ? "content needs text (with optional media), a contentId, modules, or a contentSid." : "contentVariables needs the contentSid of its Twilio template."));
            return problems;
        }
        if (forms > 1)
        {
            problems.Add(new(prefix, "content takes only one of: text with media, contentId, modules, contentSid."));
        }
        if (content.ContentSid is not null || content.ContentVariables is not null)
        {
            CheckTemplateForm(problems, prefix, content);
        }

        if (content.ContentId is not null)
        {
            if (!allowContentId)
            {
                problems.Add(new($"{prefix}.contentId", "A saved template can't point to another template; give its text or modules."));
            }
            else if (!Data.PublicId.TryDecode(Data.PublicId.Content, content.ContentId, out _))
            {
                problems.Add(new($"{prefix}.contentId", "contentId must be a content id like cnt_…"));
            }
        }

        if (content.Text is not null || content.Media is { Count: > 0 })
        {
            CheckText(problems, $"{prefix}.text", content.Text, required: content.Media is not { Count: > 0 }, MaxTextLength);
            CheckMedia(problems, $"{prefix}.media", content.Media);
        }

        if (content.Modules is { } modules)
        {
            CheckModules(problems, $"{prefix}.modules", modules);
        }

        // Liquid syntax and unknown filters, in every text field; URL fields are checked for form after rendering, not here.
        foreach (var (field, text) in TextFields(content, prefix))
        {
            problems.AddRange(renderer.Problems(text).Select(p => new ContentProblem(field, p.Message, p.Line, p.Column)));
        }
        return problems;
    }

    public const int MinVariants = 2;
    public const int MaxVariants = 5;
    public const int MaxVariantNameLength = 40;
    public const string MetricDelivered = "delivered";
    public const string MetricClicked = "clicked";

    /// <summary>The longest wait a test may ask for before its winner is picked.</summary>
    public static readonly TimeSpan MaxDecideAfter = TimeSpan.FromDays(30);

    /// <summary>An ISO 8601 duration such as <c>PT4H</c> or <c>P1DT30M</c>; false for anything else.</summary>
    public static bool TryReadDuration(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text) || !text.StartsWith('P'))
        {
            return false;
        }
        try
        {
            duration = System.Xml.XmlConvert.ToTimeSpan(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>
    /// An A/B content: 2–5 named, weighted variants, each a content of any other form (checked by the same rules, under
    /// <c>content.variants[i].content</c>), and optionally the test that sends a share first and the winner to the rest.
    /// </summary>
    private static void CheckVariants(List<ContentProblem> problems, MessageContent content, TemplateRenderer renderer, string prefix, bool allowContentId)
    {
        if (content.Text is not null || content.Media is not null || content.ContentId is not null || content.Modules is not null
            || content.ContentSid is not null || content.ContentVariables is not null)
        {
            problems.Add(new(prefix, "content with variants holds only variants and test: give each variant its own content."));
        }
        var variants = content.Variants;
        if (variants is null)
        {
            problems.Add(new($"{prefix}.variants", $"test needs {MinVariants} to {MaxVariants} variants to choose from."));
        }
        else if (variants.Count is < MinVariants or > MaxVariants)
        {
            problems.Add(new($"{prefix}.variants", $"An A/B test has {MinVariants} to {MaxVariants} variants; this has {variants.Count}."));
        }
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < (variants?.Count ?? 0); i++)
        {
            var at = $"{prefix}.variants[{i}]";
            if (variants![i] is not { } variant)
            {
                problems.Add(new(at, "A variant can't be null: give its name, weight and content."));
                continue;
            }
            if (string.IsNullOrWhiteSpace(variant.Name))
            {
                problems.Add(new($"{at}.name", "Give the variant a name, e.g. \"A\"."));
            }
            else if (variant.Name.Length > MaxVariantNameLength)
            {
                problems.Add(new($"{at}.name", $"A variant's name has at most {MaxVariantNameLength} characters."));
            }
            else if (!names.Add(variant.Name.Trim()))
            {
                problems.Add(new($"{at}.name", $"Two variants are named \"{variant.Name.Trim()}\"; give each its own name."));
            }
            if (variant.Weight is not { } weight || !double.IsFinite(weight) || weight <= 0)
            {
                problems.Add(new($"{at}.weight", "weight must be a number above 0: the variant's share of the audience, relative to the others' weights."));
            }
            else if (weight > 1_000_000)
            {
                problems.Add(new($"{at}.weight", "weight is at most 1,000,000."));
            }
            if (variant.Content is not { } inner)
            {
                problems.Add(new($"{at}.content", "Each variant needs its content: text, modules, a contentId or a contentSid."));
            }
            else if (inner.Variants is not null || inner.Test is not null)
            {
                problems.Add(new($"{at}.content", "A variant can't hold variants of its own."));
            }
            else
            {
                problems.AddRange(Validate(inner, renderer, $"{at}.content", allowContentId));
            }
        }
        if (content.Test is { } test)
        {
            CheckTest(problems, test, $"{prefix}.test");
        }
    }

    private static void CheckTest(List<ContentProblem> problems, VariantTest test, string at)
    {
        if (test.Share is not { } share || !double.IsFinite(share) || share <= 0 || share >= 100)
        {
            problems.Add(new($"{at}.share", "share is the percentage of the audience the test goes to first: a number above 0 and below 100, e.g. 20."));
        }
        if (!TryReadDuration(test.DecideAfter, out var wait) || wait <= TimeSpan.Zero)
        {
            problems.Add(new($"{at}.decideAfter", "decideAfter is how long after the launch the winner is picked, as an ISO 8601 duration, e.g. \"PT4H\"."));
        }
        else if (wait > MaxDecideAfter)
        {
            problems.Add(new($"{at}.decideAfter", $"decideAfter is at most {MaxDecideAfter.TotalDays:0} days (P{MaxDecideAfter.TotalDays:0}D)."));
        }
        if (test.Metric is not (MetricDelivered or MetricClicked))
        {
            problems.Add(new($"{at}.metric", "metric is delivered or clicked: the rate the winner is picked by."));
        }
    }

    private static void CheckTemplateForm(List<ContentProblem> problems, string prefix, MessageContent content)
    {
        if (content.ContentSid is null)
        {
            problems.Add(new($"{prefix}.contentSid", "contentVariables needs the contentSid of its Twilio template."));
        }
        else if (!LooksLikeContentSid(content.ContentSid))
        {
            problems.Add(new($"{prefix}.contentSid", "contentSid must be a Twilio template SID: HX followed by 32 hexadecimal characters."));
        }
        var variables = content.ContentVariables ?? [];
        if (variables.Count > MaxTemplateVariables)
        {
            problems.Add(new($"{prefix}.contentVariables", $"contentVariables holds at most {MaxTemplateVariables} variables; this has {variables.Count}."));
        }
        foreach (var (name, value) in variables)
        {
            var at = $"{prefix}.contentVariables.{name}";
            if (!VariableNameForm().IsMatch(name))
            {
                problems.Add(new(at, "A template variable's name is letters, digits or _ (Twilio numbers them: \"1\", \"2\"…)."));
            }
            if (string.IsNullOrWhiteSpace(value))
            {
                problems.Add(new(at, $"Give {{{{{name}}}}} a value or a recipient field; Twilio refuses an empty variable."));
            }
            else if (value.Length > MaxTemplateValueLength)
            {
                problems.Add(new(at, $"At most {MaxTemplateValueLength} characters, Twilio's limit for a variable; this has {value.Length}."));
            }
        }
    }

    /// <summary>
    /// The checks that need the provider's catalogue: the template exists, every one of its variables is mapped and no other,
    /// and on a WhatsApp sender (<paramref name="senderChannel"/>) WhatsApp approved it. Null <paramref name="template"/>: unknown SID.
    /// </summary>
    public static List<ContentProblem> CheckTemplate(MessageContent content, TwilioTemplate? template, string prefix = "content", string? senderChannel = null)
    {
        var problems = new List<ContentProblem>();
        if (content.ContentSid is null)
        {
            return problems;
        }
        if (template is null)
        {
            problems.Add(new($"{prefix}.contentSid", $"No Twilio template {content.ContentSid}; pick one of GET /v1/ContentTemplates."));
            return problems;
        }
        var mapped = content.ContentVariables ?? [];
        foreach (var (name, sample) in template.Variables)
        {
            if (!mapped.ContainsKey(name))
            {
                var example = string.IsNullOrEmpty(sample) ? "" : $" (Twilio's sample: \"{sample}\")";
                problems.Add(new($"{prefix}.contentVariables.{name}", $"Template \"{template.FriendlyName}\" has the variable {{{{{name}}}}}{example}; map it to a value or a recipient field."));
            }
        }
        foreach (var name in mapped.Keys.Where(n => !template.Variables.ContainsKey(n)))
        {
            problems.Add(new($"{prefix}.contentVariables.{name}", $"Template \"{template.FriendlyName}\" has no variable {{{{{name}}}}}; its variables are {string.Join(", ", template.Variables.Keys)}."));
        }
        if (senderChannel == ChannelNames.WhatsApp && !template.ApprovedForWhatsApp)
        {
            problems.Add(new($"{prefix}.contentSid",
                $"Template \"{template.FriendlyName}\" is not approved for WhatsApp (its status: {template.Approval.Whatsapp}); WhatsApp refuses it from a WhatsApp sender. Pick an approved template or another sender."));
        }
        return problems;
    }

    /// <summary>The warning a WhatsApp sender with free text gets (null otherwise): WhatsApp delivers it only inside a 24-hour session.</summary>
    public static string? WhatsAppWarning(MessageContent content, string? senderChannel) =>
        senderChannel == ChannelNames.WhatsApp && !content.IsTwilioTemplate && content.ContentId is null
            ? "Outside a 24-hour session WhatsApp needs an approved template: free text reaches only recipients who wrote to you in the last 24 hours. Pick a Twilio template to reach everyone."
            : null;

    private static void CheckModules(List<ContentProblem> problems, string path, List<ContentModule> modules)
    {
        if (modules.Count == 0)
        {
            problems.Add(new(path, "modules needs at least one channel module (sms, rcs or whatsapp)."));
            return;
        }
        if (modules.Count > 3)
        {
            problems.Add(new(path, "modules holds at most 3 modules: one per channel."));
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < modules.Count; i++)
        {
            var module = modules[i];
            var at = $"{path}[{i}]";
            if (module is null)
            {
                problems.Add(new(at, "A module can't be null."));
                continue;
            }
            var kinds = (module.Sms is not null ? 1 : 0) + (module.Rcs is not null ? 1 : 0) + (module.Whatsapp is not null ? 1 : 0);
            if (kinds != 1)
            {
                problems.Add(new(at, "Each module holds exactly one of sms, rcs or whatsapp."));
                continue;
            }
            if (!seen.Add(module.Channel!))
            {
                problems.Add(new(at, $"{module.Channel} appears twice; give each channel one module."));
            }
            if (module.Sms is { } sms)
            {
                CheckText(problems, $"{at}.sms.text", sms.Text, required: sms.Media is not { Count: > 0 }, MaxTextLength);
                CheckMedia(problems, $"{at}.sms.media", sms.Media);
                continue;
            }
            var name = module.Rcs is not null ? "rcs" : "whatsapp";
            var rich = module.Rich!;
            var richPath = $"{at}.{name}";
            if (string.IsNullOrWhiteSpace(rich.Text) && rich.RichCard is null && rich.Media is not { Count: > 0 })
            {
                problems.Add(new(richPath, $"{name} needs text, media or a richCard."));
            }
            CheckText(problems, $"{richPath}.text", rich.Text, required: false, MaxTextLength);
            CheckMedia(problems, $"{richPath}.media", rich.Media);
            if (rich.RichCard is { } card)
            {
                var cardPath = $"{richPath}.richCard";
                if (string.IsNullOrWhiteSpace(card.Title) && string.IsNullOrWhiteSpace(card.Description))
                {
                    problems.Add(new(cardPath, "A rich card needs a title or a description."));
                }
                CheckText(problems, $"{cardPath}.title", card.Title, required: false, MaxTitleLength);
                CheckText(problems, $"{cardPath}.description", card.Description, required: false, MaxDescriptionLength);
                CheckMedia(problems, $"{cardPath}.media", card.Media);
                CheckSuggestions(problems, $"{cardPath}.suggestions", card.Suggestions);
            }
        }
    }

    private static void CheckSuggestions(List<ContentProblem> problems, string path, List<CardSuggestion>? suggestions)
    {
        if (suggestions is null)
        {
            return;
        }
        if (suggestions.Count > MaxSuggestions)
        {
            problems.Add(new(path, $"A rich card has at most {MaxSuggestions} suggestions."));
        }
        for (var i = 0; i < suggestions.Count; i++)
        {
            var suggestion = suggestions[i];
            var at = $"{path}[{i}]";
            if (suggestion is null)
            {
                problems.Add(new(at, "A suggestion can't be null."));
                continue;
            }
            if (suggestion.Type is not ("REPLY" or "URL"))
            {
                problems.Add(new($"{at}.type", "type must be REPLY or URL."));
            }
            CheckText(problems, $"{at}.title", suggestion.Title, required: true, MaxSuggestionTitleLength);
            if (suggestion.Type == "URL")
            {
                if (string.IsNullOrWhiteSpace(suggestion.Url))
                {
                    problems.Add(new($"{at}.url", "A URL suggestion needs a url."));
                }
                else if (!LooksLikeUrl(suggestion.Url))
                {
                    problems.Add(new($"{at}.url", "url must be an absolute http or https address."));
                }
            }
        }
    }

    private static void CheckText(List<ContentProblem> problems, string field, string? text, bool required, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            if (required)
            {
                problems.Add(new(field, "This text is required."));
            }
            return;
        }
        if (text.Length > maxLength)
        {
            problems.Add(new(field, $"At most {maxLength} characters; this has {text.Length}."));
        }
    }

    private static void CheckMedia(List<ContentProblem> problems, string path, List<string>? media)
    {
        if (media is null)
        {
            return;
        }
        if (media.Count > MaxMedia)
        {
            problems.Add(new(path, $"At most {MaxMedia} media URLs."));
        }
        for (var i = 0; i < media.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(media[i]) || !LooksLikeUrl(media[i]))
            {
                problems.Add(new($"{path}[{i}]", "A media URL must be an absolute http or https address."));
            }
        }
    }

    /// <summary>An absolute http(s) URL; Liquid placeholders are allowed in it (they are filled per recipient).</summary>
    public static bool LooksLikeUrl(string url)
    {
        if (url.Length > MaxUrlLength)
        {
            return false;
        }
        var withoutLiquid = url.Contains("{{", StringComparison.Ordinal) || url.Contains("{%", StringComparison.Ordinal)
            ? System.Text.RegularExpressions.Regex.Replace(url, @"\{\{.*?\}\}|\{%.*?%\}", "x", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(100))
            : url;
        return Uri.TryCreate(withoutLiquid, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) && uri.Host.Length > 0;
    }

    /// <summary>The variables the content reads that <paramref name="known"/> lacks and that no <c>default</c> covers.</summary>
    public static IReadOnlyList<string> UnknownVariables(MessageContent content, IEnumerable<string> known, TemplateRenderer renderer)
    {
        var knownSet = new HashSet<string>(known, StringComparer.Ordinal) { "address" };
        var unknown = new List<string>();
        foreach (var (_, text) in TextFields(content))
        {
            if (!renderer.TryParse(text, out IFluidTemplate? parsed, out _))
            {
                continue;
            }
            foreach (var variable in renderer.Variables(parsed!))
            {
                if (!variable.HasDefault && !knownSet.Contains(variable.Name) && !unknown.Contains(variable.Name))
                {
                    unknown.Add(variable.Name);
                }
            }
        }
        return unknown;
    }
}
