using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class CampaignWizardTests(BrowserApp browser)
{
    [Fact]
    public async Task A_marketer_goes_through_the_wizard_launches_and_watches_the_campaign_complete()
    {
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, "+13125550111", 100);
        var recipients = Enumerable.Range(7000, 40).Select(i => (DispatchTestKit.Number(i), $$"""{"first_name":"Zoë {{i}}"}"""));
        await DispatchTestKit.InsertGroupAsync($"Data Source={browser.App.DatabasePath}", recipients, "Wizard VIPs");
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/campaigns/new");
        await session.WaitForInteractiveAsync();

        // A step with nothing chosen says what to fix and does not move on.
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("step-problem")).ToContainTextAsync("Choose at least one group");

        await OpenSelectAsync(page, "audience-groups", "Wizard VIPs (40)");
        await page.GetByText("Wizard VIPs (40)").ClickAsync();
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.GetByTestId("will-receive")).ToHaveTextAsync("40");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("Hi {{first_name}}, our sale starts today!");
        await Assertions.Expect(page.GetByTestId("sms-segments")).ToHaveTextAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        await page.GetByText("+13125550111 · SMS · 100 MPS").ClickAsync();
        await Assertions.Expect(page.GetByTestId("sender-details")).ToContainTextAsync("100");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        // Leaving and coming back keeps every choice.
        await page.ReloadAsync();
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByTestId("draft-state")).ToHaveTextAsync("Draft saved");
        for (var i = 0; i < 4; i++)
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        }

        await page.GetByTestId("campaign-name").Locator("input").FillAsync("Spring sale");
        await Assertions.Expect(page.GetByTestId("review-figures")).ToContainTextAsync("40 recipients");
        // The group has no first_name attribute: launching needs the marketer's confirm.
        await page.GetByRole(AriaRole.Button, new() { Name = "Launch" }).ClickAsync();
        await Assertions.Expect(page.GetByText("Confirm the placeholders the audience lacks")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
        await page.GetByTestId("unknown-variables").GetByText("Send anyway").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Launch" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Launch" }).ClickAsync();

        await page.WaitForURLAsync(url => url.Contains("/campaigns/comms_operation_", StringComparison.Ordinal));
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByTestId("campaign-percent")).ToHaveTextAsync("100%", new() { Timeout = 45_000 });
        await Assertions.Expect(page.GetByTestId("messages-table")).ToContainTextAsync("Hi Zoë 70");
        Assert.Empty(session.ConsoleErrors);
    }

    /// <summary>Opens a MudSelect (clicking again if a re-render swallowed the first click) until the option shows.</summary>
    private static async Task OpenSelectAsync(IPage page, string testId, string option)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await page.GetByTestId(testId).Locator(".mud-select").First.ClickAsync();
            try
            {
                await page.GetByText(option).WaitForAsync(new() { Timeout = 2000 });
                return;
            }
            catch (TimeoutException)
            {
            }
        }
        Assert.Fail($"the {testId} list never showed {option}");
    }
}
