using System.Globalization;
using BulkCampaigns.Auth;
using BulkCampaigns.Components.Shared;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

[Trait(DatabaseTrait.Name, DatabaseTrait.PagesOnly)]
[Collection(BrowserCollection.Name)]
public sealed class LocalTimeBrowserTests(BrowserApp browser)
{
    [Fact]
    public async Task A_campaign_time_shows_in_the_browser_zone_marked_with_it()
    {
        var name = await NewCampaignAsync("+13125550191");
        await using var session = await browser.SignedInPageAsync(timeZoneId: "Asia/Tokyo");
        var page = session.Page;

        await page.GotoAsync("/campaigns");

        var time = page.GetByRole(AriaRole.Row).Filter(new() { HasText = name }).Locator("time");
        var expected = await ExpectedAsync(time, "Asia/Tokyo");
        Assert.EndsWith(" JST", expected, StringComparison.Ordinal);
        await Assertions.Expect(time).ToHaveTextAsync(expected);
        Assert.Empty(session.ConsoleErrors);
    }

    [Fact]
    public async Task A_zone_picked_on_the_profile_wins_over_the_browser_zone()
    {
        var name = await NewCampaignAsync("+13125550192");
        var email = $"zone-{Guid.NewGuid():N}@example.com";
        using (var scope = browser.App.Services.CreateScope())
        {
            var created = await Bootstrap.CreateUserAsync(scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>(), email, "a long password", Roles.Marketer);
            Assert.True(created.Succeeded);
        }
        await using var session = await browser.SignedInPageAsync(timeZoneId: "Europe/Paris", email: email, password: "a long password");
        var page = session.Page;
        await page.GotoAsync("/settings");
        await session.WaitForInteractiveAsync();
        await page.GetByRole(AriaRole.Tab, new() { Name = "Your profile" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("zone-in-use")).ToContainTextAsync("Europe/Paris (your browser's zone)");

        await page.GetByLabel("Your time zone").FillAsync("tokyo");
        await page.GetByText("Asia/Tokyo", new() { Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save time zone" }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("zone-in-use")).ToContainTextAsync("Asia/Tokyo (chosen on your profile)");
        await page.GotoAsync("/campaigns");
        var time = page.GetByRole(AriaRole.Row).Filter(new() { HasText = name }).Locator("time");
        await Assertions.Expect(time).ToHaveTextAsync(await ExpectedAsync(time, "Asia/Tokyo"));
    }

    private async Task<string> NewCampaignAsync(string from)
    {
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, from, 50);
        var name = $"Zone check {Guid.NewGuid():N}"[..20];
        await DispatchTestKit.SendAsync(api, new
        {
            from = new { address = from, channel = "SMS" },
            to = new[] { new { address = DispatchTestKit.Number(7000) } },
            content = new { text = "Hello" },
            name,
        });
        return name;
    }

    /// <summary>The text a time element should show in that zone, from the exact instant it carries.</summary>
    private static async Task<string> ExpectedAsync(ILocator time, string zone)
    {
        var instant = DateTimeOffset.Parse((await time.GetAttributeAsync("datetime"))!, CultureInfo.InvariantCulture);
        return UserClock.Format(instant, UserClock.FindZone(zone)!);
    }
}
