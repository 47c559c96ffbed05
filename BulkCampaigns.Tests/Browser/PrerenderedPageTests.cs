using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BulkCampaigns.Tests.Browser;

/// <summary>
/// A page arrives prerendered and turns interactive a moment later, when its circuit is up; text typed before that
/// would be lost when the interactive page takes the prerendered one's place. Its fields take no input until then.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class PrerenderedPageTests(BrowserApp browser) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task A_page_not_yet_interactive_takes_no_typing_and_takes_it_once_interactive()
    {
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;

        // Kept as first sent: Blazor's script never arrives, so the page never turns interactive.
        await page.RouteAsync(url => url.Contains("/_framework/blazor.web", StringComparison.Ordinal), route => route.AbortAsync());
        await page.GotoAsync("/senders");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Senders", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Address")).ToBeDisabledAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Add sender" })).ToBeDisabledAsync();

        await page.UnrouteAllAsync();
        await page.ReloadAsync();
        await session.WaitForInteractiveAsync();
        await Expect(page.GetByLabel("Address")).ToBeEnabledAsync();
        await page.GetByLabel("Address").FillAsync("+13125550199");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Add sender" })).ToBeEnabledAsync();
    }
}
