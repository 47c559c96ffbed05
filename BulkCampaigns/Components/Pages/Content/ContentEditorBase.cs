using BulkCampaigns.Content;
using Microsoft.AspNetCore.Components;

namespace BulkCampaigns.Components.Pages.Content;

/// <summary>
/// What a page hands a content editor: the content to start from, where each edit is reported, the audience whose
/// recipient the preview shows and the preview's pause for typing. <see cref="ContentDesigner"/> takes them, and so does
/// <see cref="VariantDesigner"/>, which hands them on to a designer per variant.
/// </summary>
public abstract class ContentEditorBase : ComponentBase
{
    /// <summary>The content to start from; read again only when a different instance is passed.</summary>
    [Parameter]
    public MessageContent? Content { get; set; }

    [Parameter]
    public EventCallback<MessageContent> ContentChanged { get; set; }

    /// <summary>The group whose first recipient the preview starts with (the campaign's audience); typed sample values otherwise.</summary>
    [Parameter]
    public long? GroupId { get; set; }

    /// <summary>How long typing must pause before the preview is redrawn.</summary>
    [Parameter]
    public TimeSpan PreviewDelay { get; set; } = TimeSpan.FromMilliseconds(250);
}
