using System.Text.Json;
using BulkCampaigns.Content.TwilioTemplates;
using BulkCampaigns.Data;
using BulkCampaigns.Recipients;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Content;

public sealed record RenderedSuggestion(string Type, string Title, string? Url);

/// <summary>What one channel shows a recipient.</summary>
public sealed record RenderedChannel(
    string Channel,
    string? Text,
    string? Title,
    string? Description,
    IReadOnlyList<string> Media,
    IReadOnlyList<RenderedSuggestion> Suggestions);

/// <summary>A content rendered for one recipient: every channel, and the SMS text with its count.</summary>
public sealed record ContentPreview(
    string Text,
    SmsCount Sms,
    IReadOnlyList<RenderedChannel> Channels,
    IReadOnlyList<string> UnknownVariables,
    IReadOnlyList<string> Warnings);

/// <summary>Either a preview, or the problems (Liquid syntax errors with line and column among them) that prevent one.</summary>
public sealed record PreviewResult(ContentPreview? Preview, IReadOnlyList<ContentProblem> Problems)
{
    public bool Succeeded => Preview is not null;
}

public sealed record ContentTemplateView(long Id, string Name, MessageContent Content, IReadOnlyList<string> Channels, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public string PublicId => Data.PublicId.Encode(Data.PublicId.Content, Id);
}

public sealed record SaveResult(ContentTemplateView? Template, IReadOnlyList<ContentProblem> Problems, bool NotFound = false);

/// <summary>A group as the designer offers it: its variables are the placeholders a template can use.</summary>
public sealed record GroupOption(long Id, string Name, long RecipientCount, IReadOnlyList<string> AttributeKeys);

public sealed record SampleRecipient(long Id, string Address, string Channel, IReadOnlyDictionary<string, string> Variables);

/// <summary>
/// Content templates and their rendering: the one place the API, the designer and the send engine turn
/// a content and a recipient's variables into what the recipient gets, with the SMS count.
/// </summary>
public sealed class ContentService(IDbContextFactory<AppDbContext> dbFactory, TemplateRenderer renderer, ITwilioTemplateSource twilioTemplates, TimeProvider clock, Links.ShortLinks? links = null)
{
    public TemplateRenderer Renderer => renderer;

    /// <summary>The provider's Twilio templates (cached by the source; <paramref name="refresh"/> reads them again). Throws <see cref="TwilioTemplateCatalogueException"/>.</summary>
    public Task<TwilioTemplateCatalogue> TwilioTemplatesAsync(bool refresh = false, CancellationToken ct = default) => twilioTemplates.ListAsync(refresh, ct);

    /// <summary>
    /// Checks a Twilio template content against the catalogue (<see cref="ContentRules.CheckTemplate"/>) and returns it with
    /// the template's text taken in (<see cref="MessageContent.TemplateText"/>), which preview and send fill. Other contents
    /// come back as they are. The content is returned whenever the template is known, problems or not, so a preview can show it.
    /// </summary>
    public async Task<(MessageContent? Content, List<ContentProblem> Problems)> ResolveTwilioTemplateAsync(
        MessageContent content, string prefix = "content", string? senderChannel = null, CancellationToken ct = default)
    {
        if (!content.IsTwilioTemplate)
        {
            return (content, []);
        }
        TwilioTemplateCatalogue catalogue;
        try
        {
            catalogue = await twilioTemplates.ListAsync(false, ct);
        }
        catch (TwilioTemplateCatalogueException ex)
        {
            return (null, [new ContentProblem($"{prefix}.contentSid", ex.Message)]);
        }
        var template = catalogue.Find(content.ContentSid);
        var problems = ContentRules.CheckTemplate(content, template, prefix, senderChannel);
        if (template is null)
        {
            return (null, problems);
        }
        var resolved = content.Clone();
        resolved.TemplateText = template.Text;
        return (resolved, problems);
    }

    public List<ContentProblem> Validate(MessageContent? content, string prefix = "content", bool allowContentId = true) =>
        ContentRules.Validate(content, renderer, prefix, allowContentId);

    /// <summary>
    /// The placeholders of <paramref name="content"/> that <paramref name="attributeKeys"/> (a group's variables)
    /// lacks and that have no <c>default</c>; such recipients would see nothing there. <c>address</c> is always known,
    /// and so is each variable's key (<c>first_name</c> for "First Name", see <see cref="VariableKeys"/>).
    /// </summary>
    public IReadOnlyList<string> UnknownVariables(MessageContent content, IEnumerable<string> attributeKeys) =>
        ContentRules.UnknownVariables(content, VariableKeys.WithKeys(attributeKeys), renderer);

    /// <summary>
    /// For the campaign wizard: the placeholders of <paramref name="content"/> (a stored template when it is a
    /// <c>contentId</c>) that the group's recipients lack and that have no <c>default</c>. Empty for an unknown
    /// group or template; those are reported where they are chosen.
    /// </summary>
    public async Task<IReadOnlyList<string>> UnknownVariablesAsync(MessageContent content, long groupId, CancellationToken ct = default)
    {
        var (resolved, _) = await ResolveAsync(content, ct: ct);
        if (resolved is null || await GroupAsync(groupId, ct) is not { } group)
        {
            return [];
        }
        return UnknownVariables(resolved, group.AttributeKeys);
    }

    /// <summary>Renders every channel of a valid content (no <c>contentId</c>: resolve it first) for one recipient.</summary>
    public IReadOnlyList<RenderedChannel> Render(MessageContent content, IReadOnlyDictionary<string, string> variables, string? address)
    {
        string? Raw(string? text) => text is null ? null : renderer.Render(text, variables, address);
        // The text a phone shows carries the short links (tracked links), at their exact length; media and buttons stay as they are.
        string? R(string? text)
        {
            var rendered = Raw(text);
            return rendered is not null && content.TrackLinks && links is not null ? links.ShortenForPreview(rendered) : rendered;
        }
        IReadOnlyList<string> Media(List<string>? media) =>
            media is null ? [] : media.Where(m => !string.IsNullOrWhiteSpace(m)).Select(m => Raw(m)!.Trim()).ToList();

        if (content.IsTwilioTemplate)
        {
            var values = (content.ContentVariables ?? []).ToDictionary(v => v.Key, v => Raw(v.Value) ?? "", StringComparer.Ordinal);
            return [new RenderedChannel(ChannelNames.Sms, TwilioTemplateText.Fill(content.TemplateText ?? "", values), null, null, [], [])];
        }
        if (content.Modules is not { Count: > 0 } modules)
        {
            var media = Media(content.Media);
            return [new RenderedChannel(media.Count > 0 ? ChannelNames.Mms : ChannelNames.Sms, R(content.Text) ?? "", null, null, media, [])];
        }
        var channels = new List<RenderedChannel>();
        foreach (var module in modules)
        {
            if (module.Sms is { } sms)
            {
                channels.Add(new RenderedChannel(ChannelNames.Sms, R(sms.Text) ?? "", null, null, Media(sms.Media), []));
            }
            else if (module.Rich is { } rich)
            {
                var card = rich.RichCard;
                var suggestions = card?.Suggestions?.Where(s => s is not null)
                    .Select(s => new RenderedSuggestion(s.Type ?? "REPLY", R(s.Title) ?? "", Raw(s.Url)))
                    .ToList() ?? [];
                var media = Media(rich.Media).Concat(Media(card?.Media)).ToList();
                channels.Add(new RenderedChannel(module.Channel!, R(rich.Text), R(card?.Title), R(card?.Description), media, suggestions));
            }
        }
        return channels;
    }

    /// <summary>
    /// Validates and renders a content for one recipient, with the SMS count, the placeholders the recipient's
    /// group lacks (<paramref name="attributeKeys"/>; the given variables' names when null) and warnings.
    /// </summary>
    public PreviewResult Preview(MessageContent content, IReadOnlyDictionary<string, string> variables, string? address, IEnumerable<string>? attributeKeys = null)
    {
        var problems = Validate(content);
        if (content.ContentId is not null && problems.Count == 0)
        {
            problems.Add(new("content.contentId", "Resolve the stored template before previewing it."));
        }
        if (content.IsTwilioTemplate && content.TemplateText is null && problems.Count == 0)
        {
            problems.Add(new("content.contentSid", "Resolve the Twilio template before previewing it."));
        }
        if (problems.Count > 0)
        {
            return new PreviewResult(null, problems);
        }
        if (content.Variants is { Count: > 0 } variants)
        {
            // An A/B content previews its first variant; the designer previews each variant's content on its own.
            return Preview(variants[0].Content!, variables, address, attributeKeys);
        }
        IReadOnlyList<RenderedChannel> channels;
        try
        {
            channels = Render(content, variables, address);
        }
        catch (TemplateRenderException ex)
        {
            return new PreviewResult(null, [new ContentProblem("content", ex.Message)]);
        }
        var smsChannel = channels.FirstOrDefault(c => c.Channel is ChannelNames.Sms or ChannelNames.Mms);
        var text = smsChannel?.Text ?? channels.Select(c => c.Text ?? c.Description).FirstOrDefault(t => t is not null) ?? "";
        var count = SmsSegments.Count(text);

        var keys = (attributeKeys ?? variables.Keys).ToList();
        var unknown = UnknownVariables(content, keys);
        var warnings = new List<string>();
        foreach (var name in unknown)
        {
            warnings.Add($"{{{{ {name} }}}} is not a variable of these recipients and has no default: they would see nothing there. Add | default: '…' or pick another placeholder.");
        }
        if (content.IsTwilioTemplate)
        {
            foreach (var (name, value) in content.ContentVariables ?? [])
            {
                if (renderer.Render(value, variables, address) is { Length: > ContentRules.MaxTemplateValueLength } long_)
                {
                    warnings.Add($"{{{{{name}}}}} comes out {long_.Length} characters long for this recipient; Twilio refuses a variable over {ContentRules.MaxTemplateValueLength}, so the message would fail.");
                }
            }
        }
        if (content.TrackLinks && content.IsTwilioTemplate)
        {
            warnings.Add("Links in a Twilio template are sent as they are: Twilio keeps the approved text, so their clicks are not counted.");
        }
        if (content.Modules is { Count: > 0 } && smsChannel is null)
        {
            warnings.Add("There is no SMS fallback: recipients who can't receive RCS or WhatsApp get nothing.");
        }
        if (count.Encoding == SmsEncoding.Ucs2 && smsChannel is not null)
        {
            warnings.Add($"{string.Join(" ", count.Ucs2Characters)} {(count.Ucs2Characters.Count == 1 ? "is" : "are")} not in GSM-7, so the SMS is sent as UCS-2: 70 characters in one part instead of 160.");
        }
        return new PreviewResult(new ContentPreview(text, count, channels, unknown, warnings), []);
    }

    // ---- Stored templates ----

    public async Task<List<ContentTemplateView>> ListAsync(long after = 0, int take = int.MaxValue, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Set<ContentTemplate>().AsNoTracking()
            .Where(t => t.Id > after).OrderBy(t => t.Id).Take(take)
            .ToListAsync(ct);
        return rows.Select(ToView).ToList();
    }

    /// <summary>
    /// Templates newest first, keyset on the ID: the ones created before <paramref name="before"/> (0: from the newest),
    /// up to <paramref name="take"/> rows.
    /// </summary>
    // Keyset on the ID, not the last edit: UpdatedAt is stored as text SQLite cannot order or compare.
    public async Task<List<ContentTemplateView>> NewestAsync(long before, int take, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Set<ContentTemplate>().AsNoTracking();
        if (before > 0)
        {
            query = query.Where(t => t.Id < before);
        }
        var rows = await query.OrderByDescending(t => t.Id).Take(take).ToListAsync(ct);
        return rows.Select(ToView).ToList();
    }

    public async Task<ContentTemplateView?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Set<ContentTemplate>().AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, ct);
        return row is null ? null : ToView(row);
    }

    /// <summary>Turns <c>{"contentId": "cnt_…"}</c> into the stored content; other contents come back as they are.</summary>
    /// <remarks>A Twilio template (inline or saved) comes back with its text taken in, or with the problem that it is unknown.</remarks>
    public async Task<(MessageContent? Content, ContentProblem? Problem)> ResolveAsync(MessageContent content, string field = "content.contentId", CancellationToken ct = default)
    {
        if (content.ContentId is not null)
        {
            if (!PublicId.TryDecode(PublicId.Content, content.ContentId, out var id) || await GetAsync(id, ct) is not { } stored)
            {
                return (null, new ContentProblem(field, $"No content template {content.ContentId}."));
            }
            var track = content.TrackLinks;
            content = stored.Content.Clone();
            content.TrackLinks = track;
        }
        if (!content.IsTwilioTemplate)
        {
            return (content, null);
        }
        var (resolved, problems) = await ResolveTwilioTemplateAsync(content, ct: ct);
        return resolved is null ? (null, problems.FirstOrDefault()) : (resolved, null);
    }

    public async Task<SaveResult> CreateAsync(string? name, MessageContent? content, CancellationToken ct = default)
    {
        var problems = await ValidateForSaveAsync(name, content, ct);
        if (problems.Count > 0)
        {
            return new SaveResult(null, problems);
        }
        var now = clock.GetUtcNow();
        var row = new ContentTemplate { Name = name!.Trim(), ContentJson = content!.ToJson(), Channels = string.Join(",", content.Channels()), CreatedAt = now, UpdatedAt = now };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.Add(row);
        await db.SaveChangesAsync(ct);
        return new SaveResult(ToView(row), []);
    }

    public async Task<SaveResult> UpdateAsync(long id, string? name, MessageContent? content, CancellationToken ct = default)
    {
        var problems = await ValidateForSaveAsync(name, content, ct);
        if (problems.Count > 0)
        {
            return new SaveResult(null, problems);
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Set<ContentTemplate>().FirstOrDefaultAsync(t => t.Id == id, ct);
        if (row is null)
        {
            return new SaveResult(null, [], NotFound: true);
        }
        row.Name = name!.Trim();
        row.ContentJson = content!.ToJson();
        row.Channels = string.Join(",", content.Channels());
        row.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return new SaveResult(ToView(row), []);
    }

    /// <summary>Copies a template under the name "… (copy)".</summary>
    public async Task<ContentTemplateView?> DuplicateAsync(long id, CancellationToken ct = default)
    {
        if (await GetAsync(id, ct) is not { } source)
        {
            return null;
        }
        var name = source.Name.Length + 7 > ContentRules.MaxNameLength ? source.Name[..(ContentRules.MaxNameLength - 7)] : source.Name;
        return (await CreateAsync(name + " (copy)", source.Content, ct)).Template;
    }

    public async Task<bool> DeleteAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<ContentTemplate>().Where(t => t.Id == id).ExecuteDeleteAsync(ct) > 0;
    }

    private async Task<List<ContentProblem>> ValidateForSaveAsync(string? name, MessageContent? content, CancellationToken ct)
    {
        var problems = new List<ContentProblem>();
        if (string.IsNullOrWhiteSpace(name))
        {
            problems.Add(new("name", "name is required."));
        }
        else if (name.Trim().Length > ContentRules.MaxNameLength)
        {
            problems.Add(new("name", $"name has at most {ContentRules.MaxNameLength} characters."));
        }
        var contentProblems = Validate(content, allowContentId: false);
        problems.AddRange(contentProblems);
        if (contentProblems.Count == 0 && content!.IsTwilioTemplate)
        {
            problems.AddRange((await ResolveTwilioTemplateAsync(content, ct: ct)).Problems);
        }
        // The template's text is taken in when the content is used, so a saved content follows the template's edits.
        content?.TemplateText = null;
        return problems;
    }

    private static ContentTemplateView ToView(ContentTemplate row)
    {
        var content = MessageContent.FromJson(row.ContentJson);
        return new ContentTemplateView(row.Id, row.Name, content, content.Channels(), row.CreatedAt, row.UpdatedAt);
    }

    // ---- Sample recipients for previews ----

    public async Task<List<GroupOption>> GroupsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Set<Group>().AsNoTracking().OrderBy(g => g.Name)
            .Select(g => new { g.Id, g.Name, g.RecipientCount, g.AttributeKeysJson }).ToListAsync(ct);
        return rows.Select(g => new GroupOption(g.Id, g.Name, g.RecipientCount, ParseKeys(g.AttributeKeysJson))).ToList();
    }

    public async Task<GroupOption?> GroupAsync(long groupId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var g = await db.Set<Group>().AsNoTracking().Where(g => g.Id == groupId)
            .Select(g => new { g.Id, g.Name, g.RecipientCount, g.AttributeKeysJson }).FirstOrDefaultAsync(ct);
        return g is null ? null : new GroupOption(g.Id, g.Name, g.RecipientCount, ParseKeys(g.AttributeKeysJson));
    }

    /// <summary>
    /// A recipient of the group to preview with: the first after <paramref name="afterId"/> (or, with
    /// <paramref name="backwards"/>, the last before it), among those whose address starts with <paramref name="search"/>.
    /// </summary>
    public async Task<SampleRecipient?> SampleAsync(long groupId, long? afterId = null, bool backwards = false, string? search = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Set<Recipient>().AsNoTracking().Where(r => r.GroupId == groupId);
        if (!string.IsNullOrWhiteSpace(search))
        {
            var prefix = search.Trim();
            var withPlus = prefix.StartsWith('+') ? prefix : "+" + prefix;
            query = query.Where(r => r.Address.StartsWith(withPlus) || r.Address.StartsWith(prefix));
        }
        if (afterId is { } from)
        {
            query = backwards ? query.Where(r => r.Id < from) : query.Where(r => r.Id > from);
        }
        query = backwards ? query.OrderByDescending(r => r.Id) : query.OrderBy(r => r.Id);
        var row = await query.FirstOrDefaultAsync(ct);
        return row is null ? null : new SampleRecipient(row.Id, row.Address, row.Channel, ParseVariables(row.VariablesJson));
    }

    public async Task<SampleRecipient?> RecipientAsync(long groupId, long recipientId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Set<Recipient>().AsNoTracking().FirstOrDefaultAsync(r => r.GroupId == groupId && r.Id == recipientId, ct);
        return row is null ? null : new SampleRecipient(row.Id, row.Address, row.Channel, ParseVariables(row.VariablesJson));
    }

    private static List<string> ParseKeys(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<List<string>>(json) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>Reads a recipient's variables; values that are not text (should an import store one) are kept as their JSON text.</summary>
    public static Dictionary<string, string> ParseVariables(string json)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return result;
            }
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                result[property.Name] = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.Null => "",
                    _ => property.Value.GetRawText(),
                };
            }
        }
        catch (JsonException)
        {
            // A broken row previews as a recipient without variables.
        }
        return result;
    }
}
