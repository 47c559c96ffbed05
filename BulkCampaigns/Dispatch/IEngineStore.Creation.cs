namespace BulkCampaigns.Dispatch;

/// <summary>An operation to be written: who sends, what, when and at what pace (checked before it gets here).</summary>
public sealed record NewOperation(
    string? Name, bool IsTest, long SenderId, string FromAddress, string FromChannel, string ContentJson, string TagsJson,
    DateTimeOffset? SendAt, int? Mps, QuietHours? Quiet)
{
    /// <summary>An A/B content's split: each message written with its variant, or HELD for the winner outside the test share.</summary>
    public VariantPlan? Variants { get; init; }

    /// <summary>When a test's winner is picked (launch + <c>decideAfter</c>); stored with the operation so a restart keeps it.</summary>
    public DateTimeOffset? DecideAt { get; init; }
}

/// <summary>One recipient given inline in the request, its address already normalized.</summary>
public sealed record NewRecipient(string Address, string Channel, string VariablesJson);

public partial interface IEngineStore
{
    /// <summary>
    /// Writes the operation, its groups and its messages in one transaction: the inline recipients first (their
    /// variables win), then each group's; an address is written once per operation, a suppressed one as SUPPRESSED.
    /// The messages are SCHEDULED when there is a <see cref="NewOperation.SendAt"/>, else QUEUED; an operation with
    /// nothing to send is COMPLETED at once. A segment is evaluated here, once, after the groups: later imports don't
    /// change the operation. Answers the operation's ID.
    /// </summary>
    Task<long> CreateOperationAsync(NewOperation operation, IReadOnlyList<NewRecipient> inline, IReadOnlyList<long> groupIds,
        IReadOnlyList<Recipients.Segments.SegmentSource> segments, long now, CancellationToken ct);
}
