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
        MessageStatus.Scheduled or MessageStatus.Held => "Scheduled",
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

    /// <summary>The status whose counter a message in <paramref name="status"/> counts in: HELD counts as SCHEDULED, so <see cref="Changes"/> never names it.</summary>
    public static MessageStatus Counted(MessageStatus status) => status == MessageStatus.Held ? MessageStatus.Scheduled : status;

    private static readonly int StatusCount = Enum.GetValues<MessageStatus>().Length;

    private readonly long[] _counts = new long[StatusCount];

    public long Attempts { get; set; }

    public bool IsEmpty => Attempts == 0 && _counts.All(c => c == 0);

    /// <summary>
    /// Counts the written messages of a settled batch (SENDING to each one's final status, and their attempts); answers
    /// the addresses the provider reported unsubscribed, for the store to suppress.
    /// </summary>
    public List<string> CountSettled(IEnumerable<BatchMessage> settled, HashSet<long> written)
    {
        var unsubscribed = new List<string>();
        foreach (var p in settled.Where(p => written.Contains(p.Id)))
        {
            Move(MessageStatus.Sending, p.Final);
            Attempts += p.Attempts;
            if (p.Unsubscribed)
            {
                unsubscribed.Add(p.Address);
            }
        }
        return unsubscribed;
    }

    public void Move(MessageStatus from, MessageStatus to, long count = 1)
    {
        _counts[(int)Counted(from)] -= count;
        _counts[(int)Counted(to)] += count;
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
