using BulkCampaigns.Dispatch;
namespace BulkCampaigns.Operations;

/// <summary>One <c>to</c> item: an inline recipient, a stored group or a saved segment.</summary>
public sealed record AudienceItem(string? Address = null, string? Channel = null, IReadOnlyDictionary<string, string>? Variables = null, string? GroupId = null, string? SegmentId = null);

/// <summary>
/// What the wizard or <c>POST /v1/Messages</c> asks for, before it is checked. The API reads its JSON into
/// this; <see cref="OperationCreation.CreateAsync"/> checks it and reports every problem by field path.
/// </summary>
public sealed record OperationDraft(
    string? FromAddress,
    string? FromChannel,
    IReadOnlyList<AudienceItem> To,
    string? ContentJson,
    DateTimeOffset? SendAt = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    string? Name = null,
    PaceDraft? Pace = null,
    bool IsTest = false);

/// <summary>
/// How fast and when an operation may send, as asked (API: <c>pace</c>, ext): its own MPS (≤ the sender's; null: the
/// sender's) and optional quiet hours ("HH:mm" texts and an IANA zone), checked by <see cref="OperationCreation"/>.
/// </summary>
public sealed record PaceDraft(int? Mps = null, QuietHoursDraft? QuietHours = null);

public sealed record QuietHoursDraft(string? Start, string? End, string? TimeZone);

public static class OperationLimits
{
    public const int MaxInlineRecipients = 10_000;
    public const int MaxTags = 10;
    public const int MaxTagKey = 128;
    public const int MaxTagValue = 256;
}
