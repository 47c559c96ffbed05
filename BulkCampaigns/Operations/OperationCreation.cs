using System.Text.Json;
using System.Text.RegularExpressions;
using BulkCampaigns.Api;
using BulkCampaigns.Content;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Hosting;
using BulkCampaigns.Recipients;
using BulkCampaigns.Senders;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Operations;

/// <summary>
/// Makes an operation, for both doors (the wizard and <c>POST /v1/Messages</c>): checks the draft and lists every
/// problem by field path; only when all is well writes it (<see cref="IEngineStore.CreateOperationAsync"/>) and
/// starts it, now or at its time. Nine dependencies: the sender, the content, the groups and the segments each check
/// their own part of the draft.
/// </summary>
public sealed partial class OperationCreation(
    IDbContextFactory<AppDbContext> dbFactory,
    SenderService senders,
    RequestContent content,
    IEngineStore store,
    OperationRunner runner,
    IOptions<MessagingOptions> messaging,
    IOptions<LimitsOptions> limits,
    TimeProvider clock,
    Recipients.Segments.SegmentService segments)
{
    [GeneratedRegex("^[a-zA-Z0-9._~-]+$")]
    private static partial Regex TagText();

    /// <summary>Checks the draft and makes the operation; on any problem nothing is made and every problem is listed.</summary>
    public async Task<(long? OperationId, ApiValidation Validation)> CreateAsync(OperationDraft draft, CancellationToken ct = default)
    {
        var validation = new ApiValidation();
        Sender? sender = null;
        if (string.IsNullOrWhiteSpace(draft.FromAddress))
        {
            validation.Add("from.address", "from.address is required: a registered sender's address.");
        }
        else if (draft.FromChannel is not null && ChannelNames.ForSender(draft.FromChannel) is null)
        {
            validation.Add("from.channel", "from.channel must be SMS, RCS or WHATSAPP.");
        }
        else
        {
            sender = await senders.FindAsync(draft.FromAddress, draft.FromChannel, ct);
            if (sender is null)
            {
                validation.Add("from", $"{draft.FromAddress} is not a registered sender; add it under Senders first.");
            }
        }

        var region = messaging.Value.Region;
        var inline = new List<NewRecipient>();
        var groupIds = new List<long>();
        var segmentSources = new List<Recipients.Segments.SegmentSource>();
        if (draft.To.Count == 0)
        {
            validation.Add("to", "to needs at least one recipient or group.");
        }
        else if (draft.To.Count > OperationLimits.MaxInlineRecipients)
        {
            validation.Add("to", $"to has {draft.To.Count} items; at most {OperationLimits.MaxInlineRecipients} are allowed. Store larger audiences as a group.");
        }
        else
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            for (var i = 0; i < draft.To.Count; i++)
            {
                var item = draft.To[i];
                if (item.SegmentId is not null)
                {
                    if (await segments.ResolveAsync(item.SegmentId, ct) is not { } source)
                    {
                        validation.Add($"to[{i}].segmentId", $"No segment {item.SegmentId}.");
                    }
                    else if (!segmentSources.Any(s => s.SegmentId == source.SegmentId))
                    {
                        segmentSources.Add(source);
                    }
                    continue;
                }
                if (item.GroupId is not null)
                {
                    if (!PublicId.TryDecode(PublicId.Group, item.GroupId, out var groupId) || !await db.Set<BulkCampaigns.Recipients.Group>().AnyAsync(g => g.Id == groupId, ct))
                    {
                        validation.Add($"to[{i}].groupId", $"No group {item.GroupId}.");
                    }
                    else if (!groupIds.Contains(groupId))
                    {
                        groupIds.Add(groupId);
                    }
                    continue;
                }
                if (!PhoneAddress.TryNormalize(item.Address, region, out var e164, out var error))
                {
                    validation.Add($"to[{i}].address", $"{item.Address}: {error}.");
                    continue;
                }
                var channel = (item.Channel ?? ChannelNames.Phone).Trim().ToUpperInvariant();
                if (channel is not (ChannelNames.Phone or ChannelNames.Rcs or ChannelNames.WhatsApp))
                {
                    validation.Add($"to[{i}].channel", "channel must be PHONE, RCS or WHATSAPP.");
                    continue;
                }
                inline.Add(new NewRecipient(e164, channel, JsonSerializer.Serialize(item.Variables ?? new Dictionary<string, string>())));
            }
        }

        string? contentJson = null;
        if (string.IsNullOrWhiteSpace(draft.ContentJson))
        {
            validation.Add("content", "content is required.");
        }
        else
        {
            using var doc = JsonDocument.Parse(draft.ContentJson);
            contentJson = await content.PrepareAsync(doc.RootElement, validation, ct, sender?.Channel);
        }

        var now = clock.GetUtcNow();
        if (draft.SendAt is { } sendAt && sendAt < now.AddSeconds(-5))
        {
            validation.Add("schedule.sendAt", "sendAt is in the past.");
        }
        else if (draft.SendAt is { } later && limits.Value.MaxScheduleDays is var maxDays && later > now.AddDays(maxDays))
        {
            validation.Add("schedule.sendAt", $"sendAt is more than {maxDays} days ahead; the limit is Limits:MaxScheduleDays = {maxDays}.");
        }
        var tags = draft.Tags ?? new Dictionary<string, string>();
        if (tags.Count > OperationLimits.MaxTags)
        {
            validation.Add("tags", $"at most {OperationLimits.MaxTags} tags are allowed.");
        }
        foreach (var (key, value) in tags)
        {
            if (key.Length is 0 or > OperationLimits.MaxTagKey || !TagText().IsMatch(key))
            {
                validation.Add($"tags.{key}", $"a tag key has 1–{OperationLimits.MaxTagKey} characters of a-zA-Z0-9._~-.");
            }
            if (value.Length > OperationLimits.MaxTagValue || (value.Length > 0 && !TagText().IsMatch(value)))
            {
                validation.Add($"tags.{key}", $"a tag value has at most {OperationLimits.MaxTagValue} characters of a-zA-Z0-9._~-.");
            }
        }
        if (draft.Name is { Length: > 200 })
        {
            validation.Add("name", "name has at most 200 characters.");
        }
        var (mps, quiet) = CheckPace(draft.Pace, sender, validation);
        if (!validation.IsValid || sender is null || contentJson is null)
        {
            return (null, validation);
        }

        var startAt = draft.SendAt is { } at && at > now ? at : (DateTimeOffset?)null;
        // An A/B test's winner is picked decideAfter from the launch: its start, or now.
        var variants = VariantPlan.Of(contentJson);
        var decideAt = variants?.DecideAfter is { } wait ? (startAt ?? now) + wait : (DateTimeOffset?)null;
        var operation = new NewOperation(draft.Name, draft.IsTest, sender.Id, sender.Address, sender.Channel, contentJson,
            JsonSerializer.Serialize(tags), startAt, mps, quiet) { Variants = variants, DecideAt = decideAt };
        var operationId = await store.CreateOperationAsync(operation, inline, groupIds, segmentSources, UnixMs.Now(clock), ct);
        await runner.LaunchAsync(operationId, startAt, ct, decideAt);
        return (operationId, validation);
    }

    /// <summary>Checks the pace (docs/api.md ext): an MPS of 1 up to the sender's, quiet hours as two "HH:mm" times and an IANA zone.</summary>
    private static (int? Mps, QuietHours? Quiet) CheckPace(PaceDraft? pace, Sender? sender, ApiValidation validation)
    {
        if (pace is null)
        {
            return (null, null);
        }
        if (pace.Mps is { } mps && (mps < 1 || (sender is not null && mps > sender.Mps)))
        {
            validation.Add("pace.mps", sender is null
                ? "pace.mps is at least 1."
                : $"pace.mps is between 1 and the sender's MPS ({sender.Mps}).");
        }
        if (pace.QuietHours is not { } q)
        {
            return (pace.Mps, null);
        }
        var startOk = QuietHours.TryParseTime(q.Start, out var start);
        var endOk = QuietHours.TryParseTime(q.End, out var end);
        if (!startOk)
        {
            validation.Add("pace.quietHours.start", "start is a 24-hour time HH:mm, e.g. \"21:00\".");
        }
        if (!endOk)
        {
            validation.Add("pace.quietHours.end", "end is a 24-hour time HH:mm, e.g. \"08:00\".");
        }
        if (startOk && endOk && start == end)
        {
            validation.Add("pace.quietHours.end", "end must differ from start.");
        }
        if (QuietHours.FindIanaZone(q.TimeZone) is null)
        {
            validation.Add("pace.quietHours.timeZone", "timeZone is an IANA time zone id, e.g. \"Europe/London\".");
        }
        return (pace.Mps, validation.IsValid ? new QuietHours(start, end, q.TimeZone!) : null);
    }
}
