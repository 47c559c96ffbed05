using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace BulkCampaigns.Tests.Infrastructure;

/// <summary>
/// bUnit context with MudBlazor set up once: its services, loose JS interop (MudBlazor calls JS for
/// focus, popovers and sizes) and a popover provider rendered so selects and menus can open.
/// </summary>
public abstract class MudTestContext : BunitContext
{
    protected MudTestContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(o => o.PopoverOptions.CheckForPopoverProvider = false);
    }

    /// <summary>Renders the providers MudBlazor's dialogs, snackbars and popovers draw into.</summary>
    protected IRenderedComponent<MudPopoverProvider> RenderPopoverProvider() => Render<MudPopoverProvider>();
}
