using BulkCampaigns.Dispatch;
using System.Data;
using System.Text.Json;
using System.Text.RegularExpressions;
using BulkCampaigns.Api;
using BulkCampaigns.Content;
using BulkCampaigns.Data;
using BulkCampaigns.Hosting;
using BulkCampaigns.Recipients;
using BulkCampaigns.Senders;
using Hangfire;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Operations;

public enum ControlResult
{
    Done,
    NotFound,
    NotAllowed,
}

/// <summary>
/// The one engine both doors (the wizard and the API) use: makes operations with their messages,
/// and pauses, resumes, cancels and retries them. It is still over 300 lines with more than eight dependencies
/// because creating an operation (the draft's checks and its one insert transaction) lives beside its control;
/// moving creation into a class of its own is the next step (its control SQL is already in IEngineStore).
/// </summary>
public sealed partial class OperationService(
    IDbContextFactory<AppDbContext> dbFactory,
    WriteGate gate,
    SenderService senders,
    TemplateRenderer renderer,
    IStoredContentSource storedContent,
    IBackgroundJobClient jobs,
    OperationProgress progress,
    OperationSignals signals,
    IEngineStore store,
    IOptions<DispatchOptions> options,
    IOptions<MessagingOptions> messaging,
    IOptions<LimitsOptions> limits,
    TimeProvider clock,
    Operating.OperationLog opLog)
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
        var inline = new List<(string Address, string Channel, string VariablesJson)>();
        var groupIds = new List<long>();
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
                inline.Add((e164, channel, JsonSerializer.Serialize(item.Variables ?? new Dictionary<string, string>())));
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
            contentJson = await DispatchContent.PrepareAsync(doc.RootElement, storedContent, renderer, validation, ct, sender?.Channel);
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

        var scheduled = draft.SendAt is { } at && at > now;
        var operationId = await InsertAsync(sender, inline, groupIds, contentJson, scheduled ? draft.SendAt : null,
            JsonSerializer.Serialize(tags), draft.Name, mps, quiet, draft.IsTest, ct);
        if (scheduled)
        {
            jobs.Schedule<DispatchJobs>(j => j.StartAsync(operationId, CancellationToken.None), draft.SendAt!.Value);
        }
        else
        {
            await EnqueueBatchesAsync(operationId, ct);
        }
        progress.Publish(operationId);
        await opLog.MadeAsync(operationId, ct);
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

    private async Task<long> InsertAsync(Sender sender, List<(string Address, string Channel, string VariablesJson)> inline, List<long> groupIds,
        string contentJson, DateTimeOffset? sendAt, string tagsJson, string? name, int? mps, QuietHours? quiet, bool isTest, CancellationToken ct)
    {
        var nowMs = UnixMs.Now(clock);
        var initial = sendAt is null ? MessageStatus.Queued : MessageStatus.Scheduled;
        using var writer = await gate.EnterAsync(ct);
        var connection = writer.Connection;
        await using var tx = connection.BeginTransaction();

        // One writer holds the database until commit, so every message row above this ID is this operation's.
        long before;
        await using (var max = connection.CreateCommand())
        {
            max.Transaction = tx;
            max.CommandText = "SELECT COALESCE(MAX(Id), 0) FROM Messages";
            before = (long)(await max.ExecuteScalarAsync(ct))!;
        }

        long operationId;
        await using (var insert = connection.CreateCommand())
        {
            insert.Transaction = tx;
            insert.CommandText = """
                INSERT INTO Operations (Name, IsTest, Status, SenderId, FromAddress, FromChannel, ContentJson, TagsJson, SendAt, Mps, QuietStart, QuietEnd, QuietTimeZone,
                    FirstMessageId, LastMessageId,
                    Total, Attempts, Scheduled, Queued, Sending, Sent, Delivered, Read, Undelivered, Unaddressable, Failed, Canceled, Suppressed, CreatedAt, UpdatedAt)
                VALUES ($name, $isTest, $status, $sender, $from, $channel, $content, $tags, $sendAt, $mps, $quietStart, $quietEnd, $quietZone,
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, $now, $now)
                RETURNING Id
                """;
            insert.Parameters.AddWithValue("$name", (object?)name ?? DBNull.Value);
            insert.Parameters.AddWithValue("$isTest", isTest);
            insert.Parameters.AddWithValue("$status", (int)(sendAt is null ? OperationStatus.Processing : OperationStatus.Scheduled));
            insert.Parameters.AddWithValue("$sender", sender.Id);
            insert.Parameters.AddWithValue("$from", sender.Address);
            insert.Parameters.AddWithValue("$channel", sender.Channel);
            insert.Parameters.AddWithValue("$content", contentJson);
            insert.Parameters.AddWithValue("$tags", tagsJson);
            insert.Parameters.AddWithValue("$sendAt", sendAt is { } s ? s.ToUnixTimeMilliseconds() : DBNull.Value);
            insert.Parameters.AddWithValue("$now", nowMs);
            insert.Parameters.AddWithValue("$mps", mps is { } m ? m : DBNull.Value);
            // The text EF Core's SQLite provider writes for a TimeOnly, so the entity reads it back.
            insert.Parameters.AddWithValue("$quietStart", quiet is null ? DBNull.Value : quiet.Start.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
            insert.Parameters.AddWithValue("$quietEnd", quiet is null ? DBNull.Value : quiet.End.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
            insert.Parameters.AddWithValue("$quietZone", quiet is null ? DBNull.Value : quiet.TimeZoneId);
            operationId = (long)(await insert.ExecuteScalarAsync(ct))!;
        }

        foreach (var groupId in groupIds)
        {
            await using var link = connection.CreateCommand();
            link.Transaction = tx;
            link.CommandText = "INSERT INTO OperationGroups (OperationId, GroupId) VALUES ($op, $g)";
            link.Parameters.AddWithValue("$op", operationId);
            link.Parameters.AddWithValue("$g", groupId);
            await link.ExecuteNonQueryAsync(ct);
        }

        long inserted = 0;
        // Inline recipients first: their variables win over a group's row for the same address.
        const string Suppressed = "CASE WHEN EXISTS (SELECT 1 FROM Suppressions s WHERE s.Address = {0}) THEN 10 ELSE $status END";
        if (inline.Count > 0)
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = $"""
                INSERT OR IGNORE INTO Messages (OperationId, Address, Channel, VariablesJson, Status, Segments, Attempts, Retryable, CreatedAt, UpdatedAt)
                VALUES ($op, $address, $channel, $variables, {string.Format(System.Globalization.CultureInfo.InvariantCulture, Suppressed, "$address")}, 0, 0, 0, $now, $now)
                """;
            insert.Parameters.AddWithValue("$op", operationId);
            insert.Parameters.AddWithValue("$isTest", isTest);
            insert.Parameters.AddWithValue("$status", (int)initial);
            insert.Parameters.AddWithValue("$now", nowMs);
            var address = insert.Parameters.Add("$address", SqliteType.Text);
            var channel = insert.Parameters.Add("$channel", SqliteType.Text);
            var variables = insert.Parameters.Add("$variables", SqliteType.Text);
            insert.Prepare();
            foreach (var r in inline)
            {
                address.Value = r.Address;
                channel.Value = r.Channel;
                variables.Value = r.VariablesJson;
                inserted += await insert.ExecuteNonQueryAsync(ct);
            }
        }
        foreach (var groupId in groupIds)
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = $"""
                INSERT OR IGNORE INTO Messages (OperationId, Address, Channel, VariablesJson, Status, Segments, Attempts, Retryable, CreatedAt, UpdatedAt)
                SELECT $op, r.Address, r.Channel, r.VariablesJson, {string.Format(System.Globalization.CultureInfo.InvariantCulture, Suppressed, "r.Address")}, 0, 0, 0, $now, $now
                FROM Recipients r WHERE r.GroupId = $group
                """;
            insert.Parameters.AddWithValue("$op", operationId);
            insert.Parameters.AddWithValue("$isTest", isTest);
            insert.Parameters.AddWithValue("$status", (int)initial);
            insert.Parameters.AddWithValue("$now", nowMs);
            insert.Parameters.AddWithValue("$group", groupId);
            inserted += await insert.ExecuteNonQueryAsync(ct);
        }

        // The counters without reading the million rows again: the inserts said how many went in, one writer means
        // the new IDs run from the first above `before` to the largest, and the suppressed ones are counted from the
        // suppression list's side when that list is the shorter.
        var counts = new long[11];
        long first = 0, last = 0;
        if (inserted > 0)
        {
            await using var range = connection.CreateCommand();
            range.Transaction = tx;
            range.CommandText = $"""
                SELECT (SELECT Id FROM Messages WHERE Id > $before ORDER BY Id LIMIT 1), (SELECT MAX(Id) FROM Messages),
                       CASE WHEN (SELECT COUNT(*) FROM Suppressions) <= $inserted
                            THEN (SELECT COUNT(*) FROM Suppressions s WHERE EXISTS (SELECT 1 FROM Messages m WHERE m.OperationId = $op AND m.Address = s.Address))
                            ELSE (SELECT COUNT(*) FROM Messages WHERE Id > $before AND Status = {(int)MessageStatus.Suppressed}) END
                """;
            range.Parameters.AddWithValue("$before", before);
            range.Parameters.AddWithValue("$inserted", inserted);
            range.Parameters.AddWithValue("$op", operationId);
            await using var reader = await range.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            first = reader.GetInt64(0);
            last = reader.GetInt64(1);
            counts[(int)MessageStatus.Suppressed] = reader.GetInt64(2);
            counts[(int)initial] = inserted - counts[(int)MessageStatus.Suppressed];
        }
        var nothingToSend = counts[(int)MessageStatus.Scheduled] == 0 && counts[(int)MessageStatus.Queued] == 0;
        await using (var stats = connection.CreateCommand())
        {
            stats.Transaction = tx;
            stats.CommandText = """
                UPDATE Operations SET FirstMessageId = $first, LastMessageId = $last, Total = $total,
                    Scheduled = $scheduled, Queued = $queued, Suppressed = $suppressed,
                    Status = CASE WHEN $done = 1 THEN $completed ELSE Status END,
                    StartedAt = CASE WHEN $done = 1 OR Status = $processing THEN $now ELSE NULL END,
                    CompletedAt = CASE WHEN $done = 1 THEN $now ELSE NULL END
                WHERE Id = $op
                """;
            stats.Parameters.AddWithValue("$op", operationId);
            stats.Parameters.AddWithValue("$first", first);
            stats.Parameters.AddWithValue("$last", last);
            stats.Parameters.AddWithValue("$total", counts.Sum());
            stats.Parameters.AddWithValue("$scheduled", counts[(int)MessageStatus.Scheduled]);
            stats.Parameters.AddWithValue("$queued", counts[(int)MessageStatus.Queued]);
            stats.Parameters.AddWithValue("$suppressed", counts[(int)MessageStatus.Suppressed]);
            stats.Parameters.AddWithValue("$done", nothingToSend ? 1 : 0);
            stats.Parameters.AddWithValue("$now", nowMs);
            stats.Parameters.AddWithValue("$completed", (int)OperationStatus.Completed);
            stats.Parameters.AddWithValue("$processing", (int)OperationStatus.Processing);
            await stats.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return operationId;
    }

    /// <summary>Queues one job per slice of the operation's message IDs. Safe to call again: a job claims only QUEUED messages.</summary>
    public async Task EnqueueBatchesAsync(long operationId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var op = await db.Set<Operation>().AsNoTracking()
            .Where(o => o.Id == operationId)
            .Select(o => new { o.Status, o.FirstMessageId, o.LastMessageId })
            .FirstOrDefaultAsync(ct);
        if (op is null || op.Status != OperationStatus.Processing || op.LastMessageId == 0)
        {
            return;
        }
        var size = Math.Max(1, options.Value.BatchSize);
        for (var start = op.FirstMessageId; start <= op.LastMessageId; start += size)
        {
            var from = start;
            var to = Math.Min(op.LastMessageId, start + size - 1);
            jobs.Enqueue<DispatchJobs>(j => j.SendBatchAsync(operationId, from, to, CancellationToken.None));
        }
    }

    /// <summary>Stops new sends within a second; the place is kept (messages stay QUEUED).</summary>
    public async Task<ControlResult> PauseAsync(long operationId, string? reason = null, CancellationToken ct = default)
    {
        var result = await TransitionAsync(operationId, [OperationStatus.Processing, OperationStatus.Scheduled], OperationStatus.Paused, reason, ct);
        if (result == ControlResult.Done)
        {
            await opLog.PausedAsync(operationId, reason, ct);
        }
        return result;
    }

    public async Task<ControlResult> ResumeAsync(long operationId, CancellationToken ct = default)
    {
        // A scheduled operation paused before its time goes back to waiting for it; after its time it starts now.
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var waiting = await db.Set<Operation>().AsNoTracking().Where(o => o.Id == operationId)
                .Select(o => new { o.SendAt, o.Scheduled }).FirstOrDefaultAsync(ct);
            if (waiting is { SendAt: { } sendAt, Scheduled: > 0 } && sendAt > clock.GetUtcNow())
            {
                var rescheduled = await TransitionAsync(operationId, [OperationStatus.Paused], OperationStatus.Scheduled, null, ct);
                if (rescheduled == ControlResult.Done)
                {
                    jobs.Schedule<DispatchJobs>(j => j.StartAsync(operationId, CancellationToken.None), sendAt);
                    await opLog.ResumedAsync(operationId, ct);
                }
                return rescheduled;
            }
        }
        var result = await TransitionAsync(operationId, [OperationStatus.Paused], OperationStatus.Processing, null, ct);
        if (result == ControlResult.Done)
        {
            await store.MoveMessagesAsync(operationId, MessageStatus.Scheduled, MessageStatus.Queued, ct);
            await opLog.ResumedAsync(operationId, ct);
            await EnqueueBatchesAsync(operationId, ct);
            await CompleteIfDoneAsync(operationId, ct);
        }
        return result;
    }

    /// <summary>Marks every message not yet handed to the provider CANCELED.</summary>
    public async Task<ControlResult> CancelAsync(long operationId, CancellationToken ct = default)
    {
        var result = await TransitionAsync(operationId, [OperationStatus.Processing, OperationStatus.Scheduled, OperationStatus.Paused], OperationStatus.Canceled, null, ct);
        if (result == ControlResult.Done)
        {
            await store.MoveMessagesAsync(operationId, MessageStatus.Scheduled, MessageStatus.Canceled, ct);
            await store.MoveMessagesAsync(operationId, MessageStatus.Queued, MessageStatus.Canceled, ct);
            progress.Publish(operationId);
            await opLog.CanceledAsync(operationId, ct);
        }
        return result;
    }

    /// <summary>Re-queues FAILED messages whose error is retryable, and sends them.</summary>
    public async Task<ControlResult> RetryAsync(long operationId, CancellationToken ct = default)
    {
        var status = await store.ReadStatusAsync(operationId, ct);
        if (status is null)
        {
            return ControlResult.NotFound;
        }
        if (status is OperationStatus.Canceled or OperationStatus.Scheduled)
        {
            return ControlResult.NotAllowed;
        }
        var moved = await store.MoveMessagesAsync(operationId, MessageStatus.Failed, MessageStatus.Queued, ct,
            onlyRetryable: true, reopen: status == OperationStatus.Completed);
        if (moved == 0)
        {
            return ControlResult.NotAllowed;
        }
        if (status != OperationStatus.Paused)
        {
            await EnqueueBatchesAsync(operationId, ct);
        }
        progress.Publish(operationId);
        return ControlResult.Done;
    }

    private async Task<ControlResult> TransitionAsync(long operationId, OperationStatus[] from, OperationStatus to, string? reason, CancellationToken ct)
    {
        if (await store.TransitionAsync(operationId, from, to, reason, ct) is { } refused)
        {
            return refused;
        }
        if (to is OperationStatus.Paused or OperationStatus.Canceled)
        {
            signals.Stop(operationId);
        }
        progress.Publish(operationId);
        return ControlResult.Done;
    }

    /// <summary>Marks a PROCESSING operation COMPLETED when nothing is left to send.</summary>
    public async Task CompleteIfDoneAsync(long operationId, CancellationToken ct)
    {
        if (await store.CompleteIfDoneAsync(operationId, ct))
        {
            progress.Publish(operationId);
            await opLog.CompletedAsync(operationId, ct);
        }
    }
}
