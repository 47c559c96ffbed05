using BulkCampaigns.Content;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Senders;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Campaigns;

public enum WizardStep
{
    Audience = 0,
    Content = 1,
    Sender = 2,
    Schedule = 3,
    Review = 4,
}

/// <summary>Something to fix, at the step where it is fixed.</summary>
public sealed record StepProblem(WizardStep Step, string Message);

/// <summary>
/// The review's figures: how many, how many segments, how long at the sender's rate, and what it costs when an
/// Admin set a price for the sender's channel (<see cref="Price"/> and <see cref="Cost"/> null otherwise).
/// </summary>
public sealed record LaunchEstimate(AudienceCount Audience, double SegmentsPerMessage, long TotalSegments, int Mps, TimeSpan Duration, IReadOnlyList<string> UnknownVariables,
    ChannelPrice? Price = null)
{
    public decimal? Cost => Price is { } p ? p.PricePerSegment * TotalSegments : null;
}

/// <summary>Most numbers a test send goes to: the marketer's own phones, not an audience.</summary>
public static class TestSend
{
    public const int MaxAddresses = 10;
    public const string Mark = "[TEST]";
}

/// <summary>
/// Turns a wizard draft into an operation through the same <see cref="OperationCreation"/> the API uses:
/// the wizard only gathers and explains; the engine checks and makes.
/// </summary>
public sealed class CampaignLauncher(OperationCreation operations, ContentService content, SenderService senders, AudienceCounter audience, ChannelPrices prices,
    IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock, Recipients.Segments.SegmentService segments)
{
    private const int SampleSize = 200;

    /// <summary>What a marketer must fix before launch, step by step (the engine checks again at launch).</summary>
    public async Task<IReadOnlyList<StepProblem>> CheckAsync(DraftData draft, CancellationToken ct = default)
    {
        var problems = new List<StepProblem>();
        if (draft.SegmentId is { } segmentId)
        {
            if (await segments.ResolveAsync(segmentId, ct) is null)
            {
                problems.Add(new(WizardStep.Audience, "The chosen segment no longer exists; choose another, or groups."));
            }
        }
        else if (draft.GroupIds.Count == 0)
        {
            problems.Add(new(WizardStep.Audience, "Choose at least one group or a segment to send to."));
        }
        var sender = draft.SenderId is not null && PublicId.TryDecode(PublicId.Sender, draft.SenderId, out var senderId) ? await senders.GetAsync(senderId, ct) : null;
        var messageContent = ContentOf(draft);
        if (messageContent is null)
        {
            problems.Add(new(WizardStep.Content, "Pick a saved template or write the message."));
        }
        else
        {
            var contentProblems = content.Validate(messageContent);
            problems.AddRange(contentProblems.Select(p => new StepProblem(WizardStep.Content, p.Message)));
            if (contentProblems.Count == 0)
            {
                problems.AddRange((await TwilioTemplateProblemsAsync(messageContent, sender?.Channel, ct)).Select(p => new StepProblem(WizardStep.Content, p)));
            }
        }
        if (sender is null)
        {
            problems.Add(new(WizardStep.Sender, "Choose the sender the messages come from."));
        }
        else if (MpsProblem(draft.Mps, sender.Mps) is { } mpsProblem)
        {
            problems.Add(new(WizardStep.Schedule, mpsProblem));
        }
        if (draft.QuietHours && draft.QuietStart == draft.QuietEnd)
        {
            problems.Add(new(WizardStep.Schedule, "Quiet hours start and end at the same time; make them differ, or switch quiet hours off."));
        }
        if (draft.Scheduled && Dispatch.QuietHours.FindIanaZone(draft.TimeZoneId) is null)
        {
            problems.Add(new(WizardStep.Schedule, $"\"{draft.TimeZoneId}\" is not a time zone; pick one from the list."));
        }
        else if (draft.Scheduled && draft.SendAtLocal is null)
        {
            problems.Add(new(WizardStep.Schedule, "Pick the date and time to send, or choose \"Send as soon as I launch\"."));
        }
        else if (draft.Scheduled)
        {
            var at = draft.SendAtUtc();
            if (at is null)
            {
                problems.Add(new(WizardStep.Schedule, $"That time does not exist in {draft.TimeZoneId} (the clocks skip it); pick another."));
            }
            else if (at < clock.GetUtcNow())
            {
                problems.Add(new(WizardStep.Schedule, "The send time is in the past; pick a later one or send now."));
            }
        }
        if (string.IsNullOrWhiteSpace(draft.Name))
        {
            problems.Add(new(WizardStep.Review, "Give the campaign a name, so you find it on the dashboard."));
        }
        else if (draft.Name.Length > 200)
        {
            problems.Add(new(WizardStep.Review, "Keep the name under 200 characters."));
        }
        return problems;
    }

    /// <summary>
    /// A Twilio template's problems against the provider's catalogue, as the API finds them: an unknown template, a variable left
    /// unmapped, and on a WhatsApp sender a template WhatsApp has not approved (named). None for other contents.
    /// </summary>
    public async Task<IReadOnlyList<string>> TwilioTemplateProblemsAsync(MessageContent messageContent, string? senderChannel, CancellationToken ct = default)
    {
        var (resolved, problem) = await content.ResolveAsync(messageContent, ct: ct);
        if (resolved is null)
        {
            return problem is null ? [] : [problem.Message];
        }
        if (!resolved.IsTwilioTemplate)
        {
            return [];
        }
        var (_, problems) = await content.ResolveTwilioTemplateAsync(resolved, senderChannel: senderChannel, ct: ct);
        return problems.Select(p => p.Message).ToList();
    }

    /// <summary>What is wrong with a chosen MPS, in plain words; null when it is fine (null: the sender's).</summary>
    public static string? MpsProblem(int? mps, int senderMps) => mps switch
    {
        < 1 => "Send at least 1 message per second.",
        { } m when m > senderMps => $"This sender sends at most {senderMps:N0} messages per second; choose {senderMps:N0} or fewer.",
        _ => null,
    };

    public static MessageContent? ContentOf(DraftData draft)
    {
        var content = draft.ContentId is { Length: > 0 } id ? new MessageContent { ContentId = id }
            : draft.ContentJson is { Length: > 0 } json ? MessageContent.FromJson(json)
            : null;
        content?.TrackLinks = draft.TrackLinks;
        return content;
    }

    /// <summary>Renders the content for a sample of the audience to estimate segments and the time it takes.</summary>
    public async Task<LaunchEstimate> EstimateAsync(DraftData draft, CancellationToken ct = default)
    {
        var (count, groupIds) = await AudienceOfAsync(draft, ct);
        var sender = draft.SenderId is not null && PublicId.TryDecode(PublicId.Sender, draft.SenderId, out var senderId) ? await senders.GetAsync(senderId, ct) : null;
        var mps = sender is not null ? SenderPacer.EffectiveMps(sender.Mps, draft.Mps) : 1;
        var price = sender is not null ? await prices.GetAsync(sender.Channel, ct) : null;
        var resolved = ContentOf(draft) is { } c ? (await content.ResolveAsync(c, ct: ct)).Content : null;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var segments = new List<int>();
        foreach (var groupId in groupIds)
        {
            if (!PublicId.TryDecode(PublicId.Group, groupId, out var id) || await content.GroupAsync(id, ct) is not { } group)
            {
                continue;
            }
            keys.UnionWith(group.AttributeKeys);
            long? after = null;
            while (resolved is not null && segments.Count < SampleSize && await content.SampleAsync(id, after, ct: ct) is { } sample)
            {
                after = sample.Id;
                var preview = content.Preview(resolved, sample.Variables, sample.Address);
                segments.Add(preview.Preview?.Sms.Segments ?? 0);
            }
        }
        var perMessage = segments.Count == 0 ? 0 : segments.Average();
        var total = (long)Math.Round(perMessage * count.WillReceive);
        var unknown = resolved is null ? [] : content.UnknownVariables(resolved, keys);
        return new LaunchEstimate(count, perMessage, total, mps, TimeSpan.FromSeconds(total / (double)Math.Max(1, mps)), unknown, price);
    }

    /// <summary>
    /// Makes the operation; on problems nothing is made and each is told at its step. <paramref name="reviewedSendAt"/> is the
    /// start the review showed (null: at launch): a draft whose schedule no longer says the same is refused, so a campaign
    /// never starts at another time than the one the marketer confirmed.
    /// </summary>
    public async Task<(string? OperationId, IReadOnlyList<StepProblem> Problems)> LaunchAsync(DraftData draft, DateTimeOffset? reviewedSendAt, CancellationToken ct = default)
    {
        var problems = await CheckAsync(draft, ct);
        if (problems.Count > 0)
        {
            return (null, problems);
        }
        var sendAt = draft.Scheduled ? draft.SendAtUtc() : null;
        if (sendAt != reviewedSendAt)
        {
            return (null, [new(WizardStep.Review, $"The start changed since the review showed it: it is now {StartText(draft)}. Check the review and confirm again.")]);
        }
        var to = draft.SegmentId is { } segment ? [new AudienceItem(SegmentId: segment)] : draft.GroupIds.Select(g => new AudienceItem(GroupId: g)).ToList();
        return await CreateAsync(draft, to, draft.Name.Trim(), sendAt, draft.Pace(), false, ct);
    }

    /// <summary>
    /// The audience's figures and the groups to sample: a segment's live count (its addresses are distinct already)
    /// and its groups (every group when it names none), or the chosen groups.
    /// </summary>
    private async Task<(AudienceCount Count, IReadOnlyList<string> GroupIds)> AudienceOfAsync(DraftData draft, CancellationToken ct)
    {
        if (draft.SegmentId is not { } segmentId)
        {
            return (await audience.CountAsync(draft.GroupIds, ct), draft.GroupIds);
        }
        if (!PublicId.TryDecode(PublicId.Segment, segmentId, out var id) || await segments.LoadAsync(id, ct) is not { } loaded)
        {
            return (new AudienceCount(0, 0, 0), []);
        }
        var (count, suppressed) = await segments.CountAsync(loaded, ct);
        var groupIds = loaded.GroupIds.Count > 0 ? loaded.GroupIds : (await content.GroupsAsync(ct)).Select(g => g.Id).ToList();
        return (new AudienceCount(count, 0, suppressed), groupIds.Select(g => PublicId.Encode(PublicId.Group, g)).ToList());
    }

    /// <summary>When the campaign starts, in words and in its zone: "now, at launch" or "2027-06-15 14:30 America/Chicago".</summary>
    public static string StartText(DraftData draft)
    {
        if (!draft.Scheduled)
        {
            return "now, at launch";
        }
        if (draft.SendAtLocal is not { } local || draft.SendAtUtc() is null)
        {
            return "not set";
        }
        var format = local.Second == 0 ? "yyyy-MM-dd HH:mm" : "yyyy-MM-dd HH:mm:ss";
        return $"{local.ToString(format, System.Globalization.CultureInfo.InvariantCulture)} {draft.TimeZoneId}";
    }

    /// <summary>Up to <paramref name="take"/> recipients of the audience, to preview with and to render a test for.</summary>
    public async Task<IReadOnlyList<SampleRecipient>> SamplesAsync(DraftData draft, int take = 20, CancellationToken ct = default)
    {
        var samples = new List<SampleRecipient>();
        if (draft.SegmentId is { } segmentId)
        {
            return PublicId.TryDecode(PublicId.Segment, segmentId, out var key) && await segments.LoadAsync(key, ct) is { } loaded
                ? (await segments.SampleAsync(loaded, take, ct)).Select(m => new SampleRecipient(m.Key, m.Address, m.Channel, m.Variables)).ToList()
                : samples;
        }
        foreach (var groupId in draft.GroupIds)
        {
            if (!PublicId.TryDecode(PublicId.Group, groupId, out var id))
            {
                continue;
            }
            long? after = null;
            while (samples.Count < take && await content.SampleAsync(id, after, ct: ct) is { } sample)
            {
                after = sample.Id;
                samples.Add(sample);
            }
        }
        return samples;
    }

    /// <summary>
    /// Sends the content now to the marketer's own numbers, rendered with <paramref name="sample"/>'s variables (a recipient of
    /// the audience), as an operation marked test: named "[TEST] …" and flagged, so lists and totals leave it out.
    /// </summary>
    public async Task<(string? OperationId, IReadOnlyList<StepProblem> Problems)> TestSendAsync(DraftData draft, IReadOnlyList<string> addresses, SampleRecipient? sample, CancellationToken ct = default)
    {
        var numbers = addresses.Select(a => a.Trim()).Where(a => a.Length > 0).Distinct().ToList();
        if (numbers.Count == 0)
        {
            return (null, [new(WizardStep.Review, "Write at least one of your numbers to send the test to.")]);
        }
        if (numbers.Count > TestSend.MaxAddresses)
        {
            return (null, [new(WizardStep.Review, $"A test goes to at most {TestSend.MaxAddresses} numbers; this has {numbers.Count}.")]);
        }
        var name = $"{TestSend.Mark} {(string.IsNullOrWhiteSpace(draft.Name) ? CampaignDrafts.Untitled : draft.Name.Trim())}";
        if (name.Length > 200)
        {
            name = name[..200];
        }
        var to = numbers.Select(a => new AudienceItem(Address: a, Variables: sample?.Variables)).ToList();
        // A test goes now at the sender's pace: the marketer is waiting for it, whatever the campaign's quiet hours.
        return await CreateAsync(draft, to, name, null, null, true, ct);
    }

    /// <summary>A new draft with a campaign's audience, content, sender, pace and schedule mode; null when there is no such campaign.</summary>
    public async Task<DraftData?> DraftFromOperationAsync(string operationId, CancellationToken ct = default)
    {
        if (!PublicId.TryDecode(PublicId.Operation, operationId, out var id))
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var operation = await db.Set<Operation>().AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, ct);
        if (operation is null)
        {
            return null;
        }
        var groups = await db.Set<OperationGroup>().AsNoTracking().Where(g => g.OperationId == id).OrderBy(g => g.GroupId).Select(g => g.GroupId).ToListAsync(ct);
        var stored = MessageContent.FromJson(operation.ContentJson);
        var quiet = operation.QuietHours;
        var name = operation.Name is { Length: > 0 } n ? $"Copy of {(n.StartsWith(TestSend.Mark, StringComparison.Ordinal) ? n[TestSend.Mark.Length..].Trim() : n)}" : "";
        return new DraftData
        {
            Name = name.Length > 200 ? name[..200] : name,
            GroupIds = groups.Select(g => PublicId.Encode(PublicId.Group, g)).ToList(),
            ContentId = stored.ContentId is { Length: > 0 } contentId ? contentId : null,
            ContentJson = stored.ContentId is { Length: > 0 } ? null : operation.ContentJson,
            TrackLinks = stored.TrackLinks,
            SenderId = PublicId.Encode(PublicId.Sender, operation.SenderId),
            // The same mode; the time itself is asked again, since the original one has passed or belongs to the original.
            SendLater = operation.SendAt is not null,
            TimeZoneId = quiet?.TimeZoneId ?? "UTC",
            Mps = operation.Mps,
            QuietHours = quiet is not null,
            QuietStart = quiet?.Start.ToTimeSpan() ?? new(21, 0, 0),
            QuietEnd = quiet?.End.ToTimeSpan() ?? new(8, 0, 0),
        };
    }

    private async Task<(string? OperationId, IReadOnlyList<StepProblem> Problems)> CreateAsync(
        DraftData draft, IReadOnlyList<AudienceItem> to, string name, DateTimeOffset? sendAt, PaceDraft? pace, bool isTest, CancellationToken ct)
    {
        var sender = draft.SenderId is not null && PublicId.TryDecode(PublicId.Sender, draft.SenderId, out var senderId)
            ? await senders.GetAsync(senderId, ct)
            : null;
        var messageContent = ContentOf(draft);
        var operationDraft = new OperationDraft(sender?.Address, sender?.Channel, to, messageContent?.ToJson(), sendAt, null, name, pace, isTest);
        var (operationId, validation) = await operations.CreateAsync(operationDraft, ct);
        if (operationId is { } id)
        {
            return (PublicId.Encode(PublicId.Operation, id), []);
        }
        return (null, validation.Errors.Select(e => new StepProblem(StepOf(e.Field), e.Message)).ToList());
    }

    private static WizardStep StepOf(string field) => field switch
    {
        _ when field.StartsWith("to", StringComparison.Ordinal) => WizardStep.Audience,
        _ when field.StartsWith("content", StringComparison.Ordinal) => WizardStep.Content,
        _ when field.StartsWith("from", StringComparison.Ordinal) => WizardStep.Sender,
        _ when field.StartsWith("schedule", StringComparison.Ordinal) || field.StartsWith("sendAt", StringComparison.Ordinal)
            || field.StartsWith("pace", StringComparison.Ordinal) => WizardStep.Schedule,
        _ => WizardStep.Review,
    };
}
