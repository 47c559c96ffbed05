using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BulkCampaigns.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class SendersBrowserTests(BrowserApp browser)
{
    [Fact]
    public async Task A_notification_shows_at_the_bottom_and_leaves_the_buttons_at_the_top_right_free()
    {
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/senders");
        await session.WaitForInteractiveAsync();
        await page.GetByLabel("Address").FillAsync("+13125550141");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add sender" }).ClickAsync();

        var notification = page.Locator(".mud-snackbar").Filter(new() { HasText = "Sender +13125550141 added." });
        await Expect(notification).ToBeVisibleAsync();
        var box = await notification.BoundingBoxAsync();
        Assert.NotNull(box);
        Assert.True(box.Y > page.ViewportSize!.Height / 2, $"the notification is at y={box.Y}, in the top half of the page");
    }

    [Fact]
    public async Task Add_sender_can_be_clicked_as_soon_as_an_address_is_typed()
    {
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/senders");
        await session.WaitForInteractiveAsync();

        await page.GetByLabel("Address").FillAsync("+13125550142");

        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Add sender" })).ToBeEnabledAsync();
    }
}
