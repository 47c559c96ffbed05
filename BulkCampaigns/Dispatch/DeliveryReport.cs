using BulkCampaigns.Operations;

namespace BulkCampaigns.Dispatch;

/// <summary>A provider's later word on a sent message.</summary>
public sealed record DeliveryReport(long MessageId, MessageStatus Status, string? ErrorCode = null, string? ErrorMessage = null)
{
    /// <summary>Which moves a report may make: SENT on to DELIVERED, READ, UNDELIVERED or FAILED, and DELIVERED on to READ.</summary>
    public static bool Allowed(MessageStatus from, MessageStatus to) => (from, to) switch
    {
        (MessageStatus.Sent, MessageStatus.Delivered or MessageStatus.Read or MessageStatus.Undelivered or MessageStatus.Failed) => true,
        (MessageStatus.Delivered, MessageStatus.Read) => true,
        _ => false,
    };
}

public enum ReportResult
{
    Applied,

    /// <summary>The message is still being written as sent; the report is kept and applied when it is.</summary>
    NotYet,

    /// <summary>Unknown message, or a move backwards (a late SENT after DELIVERED): nothing to do.</summary>
    Ignored,
}

/// <summary>What applying a set of delivery reports did, and the operations whose counters it changed.</summary>
public sealed record AppliedReports(ReportResult[] Results, IReadOnlyCollection<long> Operations);
