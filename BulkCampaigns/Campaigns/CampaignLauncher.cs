using BulkCampaigns.Content;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Senders;

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

/// <summary>The review's figures: how many, how many segments, how long at the sender's rate.</summary>
public sealed record LaunchEstimate(AudienceCount Audience, double SegmentsPerMessage, long TotalSegments, int Mps, TimeSpan Duration, IReadOnlyList<string> UnknownVariables);

/// <summary>
/// Turns a wizard draft into an operation through the same <see cref="OperationService"/> the API uses:
/// the wizard only gathers and explains; the engine checks and makes.
/// </summary>
public sealed class CampaignLauncher(OperationService operations, ContentService content, SenderService senders, AudienceCounter audience, TimeProvider clock)
{
    private const int SampleSize = 200;

    /// <summary>What a marketer must fix before launch, step by step (the engine checks again at launch).</summary>
    public async Task<IReadOnlyList<StepProblem>> CheckAsync(DraftData draft, CancellationToken ct = default)
    {
        var problems = new List<StepProblem>();
        if (draft.GroupIds.Count == 0)
        {
            problems.Add(new(WizardStep.Audience, "Choose at least one group to send to."));
        }
        var messageContent = ContentOf(draft);
        if (messageContent is null)
        {
            problems.Add(new(WizardStep.Content, "Pick a saved template or write the message."));
        }
        else
        {
            problems.AddRange(content.Validate(messageContent).Select(p => new StepProblem(WizardStep.Content, p.Message)));
        }
        var sender = draft.SenderId is not null && PublicId.TryDecode(PublicId.Sender, draft.SenderId, out var senderId) ? await senders.GetAsync(senderId, ct) : null;
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
        if (draft.SendAtLocal is not null)
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

    /// <summary>What is wrong with a chosen MPS, in plain words; null when it is fine (null: the sender's).</summary>
    public static string? MpsProblem(int? mps, int senderMps) => mps switch
    {
        < 1 => "Send at least 1 message per second.",
        { } m when m > senderMps => $"This sender sends at most {senderMps:N0} messages per second; choose {senderMps:N0} or fewer.",
        _ => null,
    };

    public static MessageContent? ContentOf(DraftData draft) =>
        draft.ContentId is { Length: > 0 } id ? new MessageContent { ContentId = id }
        : draft.ContentJson is { Length: > 0 } json ? MessageContent.FromJson(json)
        : null;

    /// <summary>Renders the content for a sample of the audience to estimate segments and the time it takes.</summary>
    public async Task<LaunchEstimate> EstimateAsync(DraftData draft, CancellationToken ct = default)
    {
        var count = await audience.CountAsync(draft.GroupIds, ct);
        var mps = draft.SenderId is not null && PublicId.TryDecode(PublicId.Sender, draft.SenderId, out var senderId) && await senders.GetAsync(senderId, ct) is { } sender
            ? SenderPacer.EffectiveMps(sender.Mps, draft.Mps)
            : 1;
        var resolved = ContentOf(draft) is { } c ? (await content.ResolveAsync(c, ct: ct)).Content : null;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var segments = new List<int>();
        foreach (var groupId in draft.GroupIds)
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
        return new LaunchEstimate(count, perMessage, total, mps, TimeSpan.FromSeconds(total / (double)Math.Max(1, mps)), unknown);
    }

    /// <summary>Makes the operation; on problems nothing is made and each is told at its step.</summary>
    public async Task<(string? OperationId, IReadOnlyList<StepProblem> Problems)> LaunchAsync(DraftData draft, CancellationToken ct = default)
    {
        var problems = await CheckAsync(draft, ct);
        if (problems.Count > 0)
        {
            return (null, problems);
        }
        var to = draft.GroupIds.Select(g => new AudienceItem(GroupId: g)).ToList();
        return await CreateAsync(draft, to, draft.Name.Trim(), draft.SendAtUtc(), draft.Pace(), ct);
    }

    /// <summary>Sends the content once, now, to one address (with the variables of the audience's first recipient).</summary>
    public async Task<(string? OperationId, IReadOnlyList<StepProblem> Problems)> TestSendAsync(DraftData draft, string address, CancellationToken ct = default)
    {
        IReadOnlyDictionary<string, string>? variables = null;
        foreach (var groupId in draft.GroupIds)
        {
            if (PublicId.TryDecode(PublicId.Group, groupId, out var id) && await content.SampleAsync(id, ct: ct) is { } sample)
            {
                variables = sample.Variables;
                break;
            }
        }
        var name = $"Test of {(string.IsNullOrWhiteSpace(draft.Name) ? "a draft" : draft.Name.Trim())}";
        // A test goes now at the sender's pace: the marketer is waiting for it, whatever the campaign's quiet hours.
        return await CreateAsync(draft, [new AudienceItem(Address: address, Variables: variables)], name, null, null, ct);
    }

    private async Task<(string? OperationId, IReadOnlyList<StepProblem> Problems)> CreateAsync(
        DraftData draft, IReadOnlyList<AudienceItem> to, string name, DateTimeOffset? sendAt, PaceDraft? pace, CancellationToken ct)
    {
        var sender = draft.SenderId is not null && PublicId.TryDecode(PublicId.Sender, draft.SenderId, out var senderId)
            ? await senders.GetAsync(senderId, ct)
            : null;
        var messageContent = ContentOf(draft);
        var operationDraft = new OperationDraft(sender?.Address, sender?.Channel, to, messageContent?.ToJson(), sendAt, null, name, pace);
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
