using BulkCampaigns.Content;
using Microsoft.AspNetCore.Components;

namespace BulkCampaigns.Components.Pages.Content;

public partial class MediaUrlsEditor
{
    [Parameter]
    public string Label { get; set; } = "Media";

    [Parameter]
    public IReadOnlyList<string> Urls { get; set; } = [];

    [Parameter]
    public EventCallback<List<string>> UrlsChanged { get; set; }

    [Parameter]
    public int Max { get; set; } = ContentRules.MaxMedia;

    [Parameter]
    public string? TestId { get; set; }

    private string? ErrorFor(int index) =>
        string.IsNullOrWhiteSpace(Urls[index]) || ContentRules.LooksLikeUrl(Urls[index]) ? null : "Use an absolute http(s) address.";

    private Task SetAsync(int index, string? value)
    {
        var copy = Urls.ToList();
        copy[index] = value ?? "";
        return UrlsChanged.InvokeAsync(copy);
    }

    private Task AddAsync() => UrlsChanged.InvokeAsync([.. Urls, ""]);

    private Task RemoveAsync(int index)
    {
        var copy = Urls.ToList();
        copy.RemoveAt(index);
        return UrlsChanged.InvokeAsync(copy);
    }
}
