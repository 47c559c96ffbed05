using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;

namespace BulkCampaigns.Links;

/// <summary>Where a short link leads: its message, and the URL it stood for.</summary>
public sealed record LinkTarget(long OperationId, long MessageId, int LinkIndex, string Url);

/// <summary>
/// A code → the URL it stood for. The code is checked with the key first (a forged or mistyped one never reaches the
/// database); then the message is read by its primary key and its text rendered again the way the batch rendered it
/// (<see cref="BatchRenderer"/>, same codes, same order), so no table of links is written while sending.
/// </summary>
public sealed class LinkResolver(LinkKeys keys, IEngineStore store, BatchRenderer renderer)
{
    public async Task<LinkTarget?> ResolveAsync(string code, CancellationToken ct)
    {
        if (!keys.Codes.TryDecode(code, out var messageId, out var index))
        {
            return null;
        }
        if (await store.ReadLinkMessageAsync(messageId, ct) is not { } m)
        {
            return null;
        }
        var op = new BatchOperation(m.OperationId, OperationStatus.Processing, 0, m.FromAddress, m.FromChannel, m.ContentJson, 0);
        var message = new BatchMessage(messageId, m.Address, m.Channel, m.VariablesJson) { LinkUrls = [] };
        renderer.Render(op, [message]);
        return message.LinkUrls is { } urls && index < urls.Count ? new LinkTarget(m.OperationId, messageId, index, urls[index]) : null;
    }
}
