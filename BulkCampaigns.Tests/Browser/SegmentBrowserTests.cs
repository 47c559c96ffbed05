using System.Text;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using BulkCampaigns.Tests.Recipients;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class SegmentBrowserTests(ReliableCarrierBrowserApp browser) : IClassFixture<ReliableCarrierBrowserApp>
{
    [Fact]
    public async Task A_marketer_builds_a_segment_sees_the_count_change_and_a_campaign_to_it_reaches_exactly_its_recipients()
    {
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, "+13125550180", 100);
        var group = await api.CreateGroupAsync("Loyalty list");
        var csv = new StringBuilder("Mobile,Tier,Age\n");
        var gold = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            var address = DispatchTestKit.Number(8000 + i);
            var tier = i % 3 == 0 ? "GOLD" : i % 3 == 1 ? "Silver" : "gold";
            csv.Append(address).Append(',').Append(tier).Append(',').Append(20 + i).Append('\n');
            if (tier.Equals("gold", StringComparison.OrdinalIgnoreCase) && 20 + i >= 30)
            {
                gold.Add(address);
            }
        }
        await api.ImportAsync(group, csv.ToString());
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/recipients/segments/new");
        await session.WaitForInteractiveAsync();

        await page.GetByTestId("segment-name").Locator("input").FillAsync("Gold, 30 and over");
        await BrowserSteps.OpenSelectAsync(page, "segment-groups", "Loyalty list (30)");
        await page.Locator(".mud-popover-open").GetByText("Loyalty list (30)").ClickAsync();
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.GetByTestId("segment-count")).ToHaveTextAsync("30");

        // Tier (the first variable) is gold in any case: 20 of 30; then age ≥ 30.
        await page.GetByTestId("add-condition").ClickAsync();
        await Assertions.Expect(page.GetByTestId("filter-problem")).ToContainTextAsync("value is a text");
        await page.GetByTestId("condition-value").Locator("input").FillAsync("gold");
        await Assertions.Expect(page.GetByTestId("segment-count")).ToHaveTextAsync("20");
        await page.GetByTestId("add-condition").ClickAsync();
        var second = page.GetByTestId("filter-condition").Nth(1);
        await second.GetByTestId("condition-variable").GetByRole(AriaRole.Combobox).ClickAsync();
        await page.Locator(".mud-popover-open").GetByText("Age", new() { Exact = true }).ClickAsync();
        await second.GetByTestId("condition-op").GetByRole(AriaRole.Combobox).ClickAsync();
        await page.Locator(".mud-popover-open").GetByText("≥ (number)").ClickAsync();
        await second.GetByTestId("condition-value").Locator("input").FillAsync("30");
        await Assertions.Expect(page.GetByTestId("segment-count")).ToHaveTextAsync(gold.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByTestId("save-segment").ClickAsync();
        await BrowserSteps.WaitForAddressAsync(page, url => url.EndsWith("/recipients/segments", StringComparison.Ordinal), "Opening the segments list after saving");
        await Assertions.Expect(page.GetByTestId("segments-table")).ToContainTextAsync("Gold, 30 and over");

        await page.GotoAsync("/campaigns/new");
        await session.WaitForInteractiveAsync();
        await page.GetByTestId("audience-kind").GetByText("Segment").ClickAsync();
        await BrowserSteps.OpenSelectAsync(page, "audience-segment", "Gold, 30 and over");
        await page.Locator(".mud-popover-open").GetByText("Gold, 30 and over").ClickAsync();
        await Assertions.Expect(page.GetByTestId("will-receive")).ToHaveTextAsync(gold.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("Your gold offer is here");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await page.GetByText("+13125550180 · SMS · 100 MPS").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await page.GetByTestId("campaign-name").Locator("input").FillAsync("Gold offer");
        await page.GetByRole(AriaRole.Button, new() { Name = "Launch" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Launch" }).ClickAsync();

        await BrowserSteps.WaitForAddressAsync(page, url => url.Contains("/campaigns/comms_operation_", StringComparison.Ordinal), "Opening the campaign's dashboard");
        var id = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        await DispatchTestKit.WaitForStatusAsync(api, id, "COMPLETED");
        var received = (await DispatchTestKit.SimulatorMessagesAsync(api, "&from=%2B13125550180")).Select(m => m.GetProperty("to").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(gold.Order(StringComparer.Ordinal), received);
        Assert.Empty(session.ConsoleErrors);
    }
}
