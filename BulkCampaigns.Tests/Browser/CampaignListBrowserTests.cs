using System.Text.RegularExpressions;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class CampaignListBrowserTests(BrowserApp browser)
{
    [Fact]
    public async Task Search_and_sort_are_kept_in_the_address_and_survive_a_reload()
    {
        var token = Guid.NewGuid().ToString("N")[..8];
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, "+13125550193", 50);
        foreach (var name in new[] { $"Alpha {token}", $"Beta {token}" })
        {
            await DispatchTestKit.SendAsync(api, new
            {
                from = new { address = "+13125550193", channel = "SMS" },
                to = new[] { new { address = DispatchTestKit.Number(7200) } },
                content = new { text = "Hi" },
                name,
            });
        }
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/campaigns");
        await session.WaitForInteractiveAsync();

        await page.GetByLabel("Search by name").FillAsync(token.ToUpperInvariant());

        await BrowserSteps.WaitForAddressAsync(page, url => url.Contains($"q={token.ToUpperInvariant()}", StringComparison.Ordinal), "Keeping the search in the address");
        var rows = page.GetByTestId("campaign-table").Locator("tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await Assertions.Expect(rows.First).ToContainTextAsync($"Beta {token}");

        await page.GetByTestId("campaign-sort").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Name A to Z" }).ClickAsync();

        await BrowserSteps.WaitForAddressAsync(page, url => url.Contains("sort=name&dir=asc", StringComparison.Ordinal), "Keeping the sort in the address");
        await Assertions.Expect(rows.First).ToContainTextAsync($"Alpha {token}");
        await page.ReloadAsync();
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByLabel("Search by name")).ToHaveValueAsync(token.ToUpperInvariant());
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await Assertions.Expect(rows.First).ToContainTextAsync($"Alpha {token}");
        Assert.Empty(session.ConsoleErrors);
    }
}
