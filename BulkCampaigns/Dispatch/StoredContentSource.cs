using BulkCampaigns.Operations;
using BulkCampaigns.Content;
using BulkCampaigns.Data;

namespace BulkCampaigns.Dispatch;

/// <summary>Looks up a stored template (<c>{"contentId": "cnt_…"}</c>) for an operation; the operation keeps a copy.</summary>
public sealed class StoredContentSource(ContentService contentService) : IStoredContentSource
{
    public async Task<string?> FindContentJsonAsync(string contentId, CancellationToken ct) =>
        PublicId.TryDecode(PublicId.Content, contentId, out var id) && await contentService.GetAsync(id, ct) is { } template
            ? template.Content.ToJson()
            : null;

    public async Task<(MessageContent? Content, IReadOnlyList<ContentProblem> Problems)> ResolveTwilioTemplateAsync(MessageContent content, string? senderChannel, CancellationToken ct) =>
        await contentService.ResolveTwilioTemplateAsync(content, "content", senderChannel, ct);
}
