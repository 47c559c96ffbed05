using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class CampaignDashboardTests(BrowserApp browser)
{
    [Fact]
    public async Task The_dashboard_counts_rise_to_100_percent_without_a_reload()
    {
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, "+13125550101", 50);
        var to = Enumerable.Range(0, 120).Select(i => new { address = DispatchTestKit.Number(i), variables = new Dictionary<string, string> { ["name"] = $"Ann {i}" } });
        var id = await DispatchTestKit.SendAsync(api, new
        {
            from = new { address = "+13125550101", channel = "SMS" },
            to,
            content = new { text = "Hi {{name}}, your order shipped." },
            name = "Shipping notice",
        });
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync($"/campaigns/{id}");
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Shipping notice" })).ToBeVisibleAsync();
        var navigations = 0;
        page.FrameNavigated += (_, frame) => { if (frame == page.MainFrame) { navigations++; } };

        await Assertions.Expect(page.GetByTestId("campaign-percent")).ToHaveTextAsync("100%", new() { Timeout = 45_000 });

        await Assertions.Expect(page.GetByTestId("campaign-status")).ToHaveTextAsync("COMPLETED");
        await Assertions.Expect(page.GetByTestId("campaign-done")).ToContainTextAsync("120 of 120 done");
        Assert.Equal(0, navigations);
        await Assertions.Expect(page.GetByTestId("messages-table")).ToContainTextAsync("your order shipped");
        Assert.Empty(session.ConsoleErrors);
    }

    [Fact]
    public async Task A_marketer_pauses_and_resumes_a_campaign_from_its_dashboard()
    {
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, "+13125550102", 2);
        var to = Enumerable.Range(1000, 60).Select(i => new { address = DispatchTestKit.Number(i) });
        var id = await DispatchTestKit.SendAsync(api, new
        {
            from = new { address = "+13125550102", channel = "SMS" },
            to,
            content = new { text = "Slow and steady" },
            name = "Paced campaign",
        });
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync($"/campaigns/{id}");
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByTestId("campaign-status")).ToHaveTextAsync("PROCESSING", new() { Timeout = 20_000 });

        await page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("campaign-status")).ToHaveTextAsync("PAUSED");
        Assert.Equal("PAUSED", (await DispatchTestKit.GetOperationAsync(api, id)).GetProperty("status").GetString());
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Pause" })).ToBeDisabledAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("campaign-status")).ToHaveTextAsync("PROCESSING");

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel campaign" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Keep sending" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Cancel campaign" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("campaign-status")).ToHaveTextAsync("CANCELED");
        await Assertions.Expect(page.GetByTestId("campaign-percent")).ToHaveTextAsync("Canceled");
        var op = await DispatchTestKit.GetOperationAsync(api, id);
        DispatchTestKit.AssertStatsAddUp(op);
        Assert.True(DispatchTestKit.Stat(op, "canceled") > 0, op.ToString());
        Assert.True(DispatchTestKit.Stat(op, "queued") == 0, "nothing may stay queued after a cancel: " + op);
    }

    [Fact]
    public async Task The_campaigns_list_shows_api_made_campaigns_and_filters_by_status()
    {
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, "+13125550103", 100);
        var id = await DispatchTestKit.SendAsync(api, new
        {
            from = new { address = "+13125550103", channel = "SMS" },
            to = new[] { new { address = DispatchTestKit.Number(5000) } },
            content = new { text = "One" },
            name = "Listed via API",
        });
        await DispatchTestKit.WaitForStatusAsync(api, id, "COMPLETED");
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;

        await page.GotoAsync("/campaigns");
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByTestId("campaign-table")).ToContainTextAsync("Listed via API");
        await page.GotoAsync("/campaigns?status=CANCELED");
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByTestId("campaign-table")).Not.ToContainTextAsync("Listed via API");

        await page.GotoAsync("/");
        await session.WaitForInteractiveAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Listed via API" }).First.ClickAsync();
        await BrowserSteps.WaitForAddressAsync(page, url => url.EndsWith(id, StringComparison.Ordinal), "Opening the campaign");
        Assert.Empty(session.ConsoleErrors);
    }
}
