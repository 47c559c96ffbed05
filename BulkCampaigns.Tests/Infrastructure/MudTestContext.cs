using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace BulkCampaigns.Tests.Infrastructure;

/// <summary>
/// bUnit context with MudBlazor set up once: its services, loose JS interop (MudBlazor calls JS for
/// focus, popovers and sizes) and a popover provider rendered so selects and menus can open.
/// </summary>
public abstract class MudTestContext : BunitContext, IAsyncLifetime
{
    protected MudTestContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(o => o.PopoverOptions.CheckForPopoverProvider = false);
        // Every page shows times through the user's clock; with no browser answer and no profile it shows UTC.
        Services.AddScoped<BulkCampaigns.Components.Shared.UserClock>();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>
    /// xUnit 2 disposes test classes synchronously, but some MudBlazor services only dispose asynchronously:
    /// the context is disposed here first, so the later Dispose() finds nothing left to do.
    /// </summary>
    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await CleanUpAsync();
    }

    /// <summary>A test class's own clean-up (temporary files), after the context is gone.</summary>
    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    /// <summary>Renders the providers MudBlazor's dialogs, snackbars and popovers draw into.</summary>
    protected IRenderedComponent<MudPopoverProvider> RenderPopoverProvider() => Render<MudPopoverProvider>();
}
