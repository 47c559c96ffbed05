using BulkCampaigns.Dispatch;
using System.Text.Json;
using BulkCampaigns.Data;

namespace BulkCampaigns.Operations;

/// <remarks><see cref="Clicked"/> (messages with a click) and <see cref="Clicks"/> are not status buckets: outside the sum rule.</remarks>
public sealed record OperationStats(long Total, long Recipients, long Attempts, long Scheduled, long Queued, long Sent, long Delivered,
    long Read, long Undelivered, long Unaddressable, long Failed, long Canceled, long Suppressed, long Clicked = 0, long Clicks = 0);

public sealed record OperationView(
    string Id, string? Name, OperationStatus Status, OperationStats Stats, IReadOnlyDictionary<string, string> Tags,
    string From, string? PauseReason, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt,
    OperationPaceView Pace)
{
    public static OperationView Of(Operation o) => new(
        PublicId.Encode(PublicId.Operation, o.Id), o.Name, o.Status,
        new OperationStats(o.Total, o.Total, o.Attempts, o.Scheduled, o.Queued + o.Sending, o.Sent, o.Delivered, o.Read, o.Undelivered,
            o.Unaddressable, o.Failed, o.Canceled, o.Suppressed, o.Clicked, o.Clicks),
        JsonSerializer.Deserialize<Dictionary<string, string>>(o.TagsJson) ?? [],
        o.FromAddress, o.PauseReason, o.CreatedAt, o.UpdatedAt, o.StartedAt, o.CompletedAt,
        new OperationPaceView(o.Mps, o.QuietHours is { } q ? QuietHoursView.Of(q) : null));
}

/// <summary>The operation's pace (ext): its own MPS (null: the sender's) and its quiet hours (null: none).</summary>
public sealed record OperationPaceView(int? Mps, QuietHoursView? QuietHours);

public sealed record QuietHoursView(string Start, string End, string TimeZone)
{
    public static QuietHoursView Of(QuietHours q) => new(
        q.Start.ToString(QuietHours.TimeFormat, System.Globalization.CultureInfo.InvariantCulture),
        q.End.ToString(QuietHours.TimeFormat, System.Globalization.CultureInfo.InvariantCulture), q.TimeZoneId);
}

public sealed record AddressView(string Address, string Channel);

public sealed record MessageContentView(string? Text);

public sealed record MessageView(
    string Id, string OperationId, AddressView From, AddressView To, MessageStatus Status, MessageContentView Content, int Segments, int Attempts,
    string? ErrorCode, string? ErrorMessage, string? ProviderMessageId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? SentAt,
    DateTimeOffset? ClickedAt = null, int Clicks = 0)
{
    public static MessageView Of(Message m, Operation o) => new(
        PublicId.Encode(PublicId.Message, m.Id), PublicId.Encode(PublicId.Operation, m.OperationId),
        new AddressView(o.FromAddress, o.FromChannel), new AddressView(m.Address, m.Channel),
        // SENDING is an internal step of QUEUED: the API shows the statuses docs/api.md lists.
        m.Status == MessageStatus.Sending ? MessageStatus.Queued : m.Status,
        new MessageContentView(m.Body), m.Segments, m.Attempts, m.ErrorCode, m.ErrorMessage, m.ProviderMessageId, m.CreatedAt, m.UpdatedAt, m.SentAt,
        m.ClickedAt, m.Clicks);
}
