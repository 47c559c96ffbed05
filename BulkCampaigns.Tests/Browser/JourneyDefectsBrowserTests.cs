using BulkCampaigns.Auth;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BulkCampaigns.Tests.Browser;

/// <summary>Defects met on a marketer's and a viewer's first walk through the app, each with its test.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.PagesOnly)]
[Collection(BrowserCollection.Name)]
public sealed class JourneyDefectsBrowserTests(BrowserApp browser)
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

    [Fact]
    public async Task A_viewer_opening_a_marketers_page_gets_a_page_titled_not_allowed_that_says_why()
    {
        var email = $"viewer-{Guid.NewGuid():N}@example.com";
        using (var scope = browser.App.Services.CreateScope())
        {
            var created = await Bootstrap.CreateUserAsync(scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>(), email, "a viewer's long password", Roles.Viewer);
            Assert.True(created.Succeeded);
        }
        await using var session = await browser.SignedInPageAsync(email: email, password: "a viewer's long password");
        var page = session.Page;

        await page.GotoAsync("/campaigns/new");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not allowed", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByText("Your role does not allow this page.")).ToBeVisibleAsync();
    }
}
