using BulkCampaigns.Operations;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// Counter changes of one operation, applied by the store in the same transaction as the message updates that
/// caused them, so the stats always add up to the total.
/// </summary>
public sealed class StatsDelta
{
    /// <summary>The operation's counter column of a status (the same name in both databases).</summary>
    public static string Column(MessageStatus status) => status switch
    {
        MessageStatus.Scheduled => "Scheduled",
        MessageStatus.Queued => "Queued",
        MessageStatus.Sending => "Sending",
        MessageStatus.Sent => "Sent",
        MessageStatus.Delivered => "Delivered",
        MessageStatus.Read => "Read",
        MessageStatus.Undelivered => "Undelivered",
        MessageStatus.Unaddressable => "Unaddressable",
        MessageStatus.Failed => "Failed",
        MessageStatus.Canceled => "Canceled",
        MessageStatus.Suppressed => "Suppressed",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    private static readonly int StatusCount = Enum.GetValues<MessageStatus>().Length;

    private readonly long[] _counts = new long[StatusCount];

    public long Attempts { get; set; }

    public bool IsEmpty => Attempts == 0 && _counts.All(c => c == 0);

    public void Move(MessageStatus from, MessageStatus to, long count = 1)
    {
        _counts[(int)from] -= count;
        _counts[(int)to] += count;
    }

    /// <summary>The statuses whose count changed, and by how much.</summary>
    public IEnumerable<(MessageStatus Status, long Change)> Changes()
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] != 0)
            {
                yield return ((MessageStatus)i, _counts[i]);
            }
        }
    }
}
