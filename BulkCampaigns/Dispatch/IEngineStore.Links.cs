namespace BulkCampaigns.Dispatch;

/// <summary>What the redirect needs to render a message's links again: the message and its operation's content.</summary>
public sealed record LinkMessage(long MessageId, long OperationId, string Address, string Channel, string VariablesJson, string ContentJson, string FromAddress, string FromChannel)
{
    /// <summary>The row of either store's look-up (its columns in this record's order after the message ID); null when there is none.</summary>
    public static async Task<LinkMessage?> ReadAsync(System.Data.Common.DbDataReader row, long messageId, CancellationToken ct) =>
        await row.ReadAsync(ct)
            ? new LinkMessage(messageId, row.GetInt64(0), row.GetString(1), row.GetString(2), row.GetString(3), row.GetString(4), row.GetString(5), row.GetString(6))
            : null;
}

/// <summary>One counted click, as the click writer gathers them.</summary>
public sealed record ClickRecord(long OperationId, long MessageId, int LinkIndex, string Url, long At);

/// <summary>Tracked links (<c>Links/</c>): the redirect's one look-up by message ID, and the clicks written in rounds.</summary>
public partial interface IEngineStore
{
    /// <summary>The message and its operation's content, by the message's primary key; null when there is none.</summary>
    Task<LinkMessage?> ReadLinkMessageAsync(long messageId, CancellationToken ct);

    /// <summary>
    /// Writes a round of clicks in one transaction: a <c>LinkClicks</c> row each, the messages' <c>Clicks</c> and first
    /// <c>ClickedAt</c>, and the operations' <c>Clicks</c> and <c>Clicked</c> (messages clicked for the first time).
    /// Answers the operations touched.
    /// </summary>
    Task<IReadOnlyCollection<long>> RecordClicksAsync(IReadOnlyList<ClickRecord> clicks, CancellationToken ct);
}
