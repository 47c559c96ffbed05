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
    /// <summary>An A/B operation's variants side by side (null without variants); see <see cref="WithVariants"/>.</summary>
    public IReadOnlyList<VariantView>? Variants { get; init; }

    /// <summary>An A/B test's decision once taken: the winner's name, when, and every variant's rate.</summary>
    public VariantDecision? Winner { get; init; }

    public static OperationView Of(Operation o) => new(
        PublicId.Encode(PublicId.Operation, o.Id), o.Name, o.IsWaitingForWinner ? OperationStatus.WaitingForWinner : o.Status,
        new OperationStats(o.Total, o.Total, o.Attempts, o.Scheduled, o.Queued + o.Sending, o.Sent, o.Delivered, o.Read, o.Undelivered,
            o.Unaddressable, o.Failed, o.Canceled, o.Suppressed, o.Clicked, o.Clicks),
        JsonSerializer.Deserialize<Dictionary<string, string>>(o.TagsJson) ?? [],
        o.FromAddress, o.PauseReason, o.CreatedAt, o.UpdatedAt, o.StartedAt, o.CompletedAt,
        new OperationPaceView(o.Mps, o.QuietHours is { } q ? QuietHoursView.Of(q) : null));

    /// <summary>The operation with its variants' figures (<paramref name="counts"/>: <see cref="VariantWinner.CountAsync"/>) and its winner.</summary>
    public static OperationView WithVariants(Operation o, IReadOnlyList<VariantCount> counts, IReadOnlyDictionary<int, long>? clicked)
    {
        var view = Of(o);
        if (VariantPlan.Of(o.ContentJson) is not { } plan)
        {
            return view;
        }
        return view with
        {
            Variants = plan.Names.Select((name, i) => counts.FirstOrDefault(c => c.Variant == i) is { } c
                ? new VariantView(name, plan.Weights[i], c.Total, c.Sent, c.Delivered, c.Failed, clicked?.GetValueOrDefault(i))
                : new VariantView(name, plan.Weights[i], 0, 0, 0, 0, clicked is null ? null : 0)).ToList(),
            Winner = VariantDecision.FromJson(o.WinnerJson),
        };
    }

    /// <summary>The view of each operation, with its variants' figures when it has variants.</summary>
    public static async Task<OperationView> ReadAsync(AppDbContext db, IEngineStore store, Operation o, CancellationToken ct) =>
        VariantPlan.Of(o.ContentJson) is null ? Of(o)
            : WithVariants(o, await VariantWinner.CountAsync(db, o.Id, ct), await store.CountClickedByVariantAsync(o.Id, ct));
}

/// <summary>
/// One variant of an A/B operation: its messages (<see cref="Total"/>, the held rest not counted until the decision),
/// those handed to the provider, delivered (or read), failed (failed, undelivered or unaddressable), and clicked (at
/// least once; null only when no click counts were read).
/// </summary>
public sealed record VariantView(string Name, double Weight, long Total, long Sent, long Delivered, long Failed, long? Clicked);

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
    /// <summary>The name of its A/B variant; null without variants, or while it waits for the winner.</summary>
    public string? Variant { get; init; }

    /// <summary>The operation's variant names, read once per operation row (an export walks a million messages of one).</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Operation, IReadOnlyList<string>> VariantNames = new();

    private static string? VariantOf(Message m, Operation o) => m.Variant is { } v
        && VariantNames.GetValue(o, op => VariantPlan.Of(op.ContentJson)?.Names ?? []) is { } names && v >= 0 && v < names.Count ? names[v] : null;

    public static MessageView Of(Message m, Operation o) => new(
        PublicId.Encode(PublicId.Message, m.Id), PublicId.Encode(PublicId.Operation, m.OperationId),
        new AddressView(o.FromAddress, o.FromChannel), new AddressView(m.Address, m.Channel),
        // SENDING is an internal step of QUEUED, HELD (for an A/B winner) one of SCHEDULED: the API shows the statuses docs/api.md lists.
        m.Status switch { MessageStatus.Sending => MessageStatus.Queued, MessageStatus.Held => MessageStatus.Scheduled, var s => s },
        new MessageContentView(m.Body), m.Segments, m.Attempts, m.ErrorCode, m.ErrorMessage, m.ProviderMessageId, m.CreatedAt, m.UpdatedAt, m.SentAt,
        m.ClickedAt, m.Clicks)
    {
        Variant = VariantOf(m, o),
    };
}
