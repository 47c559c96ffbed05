using BulkCampaigns.Campaigns;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

[Trait(DatabaseTrait.Name, DatabaseTrait.PagesOnly)]
[Collection(BrowserCollection.Name)]
public sealed class CampaignWizardTests(BrowserApp browser)
{
    [Fact]
    public async Task A_marketer_goes_through_the_wizard_launches_and_watches_the_campaign_complete()
    {
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, "+13125550111", 100);
        var recipients = Enumerable.Range(7000, 40).Select(i => (DispatchTestKit.Number(i), $$"""{"first_name":"Zoë {{i}}"}"""));
        await DispatchTestKit.InsertGroupAsync(browser.App.Database.ConnectionString, recipients, "Wizard VIPs");
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/campaigns/new");
        await session.WaitForInteractiveAsync();

        // A step with nothing chosen says what to fix and does not move on.
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("step-problem")).ToContainTextAsync("Choose at least one group");

        await BrowserSteps.OpenSelectAsync(page, "audience-groups", "Wizard VIPs (40)");
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

        await BrowserSteps.WaitForAddressAsync(page, url => url.Contains("/campaigns/comms_operation_", StringComparison.Ordinal), "Opening the campaign's dashboard");
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByTestId("campaign-percent")).ToHaveTextAsync("100%", new() { Timeout = 45_000 });
        await Assertions.Expect(page.GetByTestId("messages-table")).ToContainTextAsync("Hi Zoë 70");
        Assert.Empty(session.ConsoleErrors);
    }

    [Fact]
    public async Task A_date_typed_by_keyboard_schedules_the_campaign_for_that_instant_in_the_chosen_zone()
    {
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, "+13125550112", 100);
        await DispatchTestKit.InsertGroupAsync(browser.App.Database.ConnectionString,
            Enumerable.Range(7100, 5).Select(i => (DispatchTestKit.Number(i), "{}")), "Typed date");
        await browser.App.Services.GetRequiredService<ChannelPrices>().SetAsync("SMS", 0.008m, "USD");
        // The browser says Chicago: the schedule's zone starts there.
        await using var session = await browser.SignedInPageAsync("America/Chicago");
        var page = session.Page;
        await WalkToScheduleAsync(session, "Typed date (5)", "+13125550112 · SMS · 100 MPS");

        await page.GetByText("Send at a date and time").ClickAsync();
        // As a person does: click into the field and type the digits of each part; Chromium fills seconds itself.
        var year = DateTime.UtcNow.Year + 1;
        var field = page.GetByTestId("send-at").Locator("input");
        await field.ClickAsync(new() { Position = new() { X = 12, Y = 10 } });
        await field.PressSequentiallyAsync($"0615{year}");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync("0230P");
        await page.Keyboard.PressAsync("Tab");

        await Assertions.Expect(page.GetByText("Not a valid date time")).ToHaveCountAsync(0);
        await Assertions.Expect(field).ToHaveValueAsync(new System.Text.RegularExpressions.Regex($"^{year}-06-15T14:30(:00)?$"));
        await Assertions.Expect(page.GetByTestId("time-zone").Locator("input")).ToHaveValueAsync("America/Chicago");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        await page.GetByTestId("campaign-name").Locator("input").FillAsync("Typed for June");
        // The review names what goes out, to whom, from where, when, and what it costs.
        await Assertions.Expect(page.GetByTestId("review-start")).ToContainTextAsync($"{year}-06-15 14:30 America/Chicago");
        await Assertions.Expect(page.GetByTestId("review-audience")).ToContainTextAsync("Typed date · 5 will receive");
        await Assertions.Expect(page.GetByTestId("review-sender")).ToContainTextAsync("+13125550112 · SMS");
        await Assertions.Expect(page.GetByTestId("review-content")).ToContainTextAsync("Written in the wizard");
        await Assertions.Expect(page.GetByTestId("review-sample")).ToHaveTextAsync("See you soon");
        await Assertions.Expect(page.GetByTestId("review-segments")).ToContainTextAsync("5 (1 per message)");
        await Assertions.Expect(page.GetByTestId("review-cost")).ToContainTextAsync("0.04 USD (0.008 USD per SMS segment)");
        await page.GetByTestId("launch").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Assertions.Expect(dialog).ToContainTextAsync($"Schedule \"Typed for June\" for {year}-06-15 14:30 America/Chicago");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Schedule" }).ClickAsync();

        await BrowserSteps.WaitForAddressAsync(page, url => url.Contains("/campaigns/comms_operation_", StringComparison.Ordinal), "Opening the campaign's dashboard");
        var id = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        var operation = await DispatchTestKit.GetOperationAsync(api, id);
        Assert.Equal("SCHEDULED", operation.GetProperty("status").GetString());
        var chicago = TimeZoneInfo.FindSystemTimeZoneById("America/Chicago");
        var expected = new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(new DateTime(year, 6, 15, 14, 30, 0), chicago), TimeSpan.Zero);
        var sendAtMs = await browser.App.ScalarAsync("""SELECT "SendAt" FROM "Operations" WHERE "Name" = 'Typed for June'""");
        Assert.Equal(expected, DateTimeOffset.FromUnixTimeMilliseconds(sendAtMs));
        await api.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null);
    }

    [Fact]
    public async Task An_emptied_send_time_blocks_the_schedule_step_instead_of_sending_now()
    {
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, "+13125550113", 100);
        await DispatchTestKit.InsertGroupAsync(browser.App.Database.ConnectionString, [(DispatchTestKit.Number(7200), "{}")], "Emptied date");
        await using var session = await browser.SignedInPageAsync("Europe/Paris");
        var page = session.Page;
        await WalkToScheduleAsync(session, "Emptied date (1)", "+13125550113 · SMS · 100 MPS");

        await page.GetByText("Send at a date and time").ClickAsync();
        await page.GetByTestId("send-at").Locator("input").FillAsync("");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("step-problem")).ToContainTextAsync("Pick the date and time");
        await Assertions.Expect(page.GetByTestId("campaign-name")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_date_picked_in_the_field_is_kept()
    {
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, "+13125550114", 100);
        await DispatchTestKit.InsertGroupAsync(browser.App.Database.ConnectionString, [(DispatchTestKit.Number(7300), "{}")], "Picked date");
        await using var session = await browser.SignedInPageAsync("Asia/Tokyo");
        var page = session.Page;
        await WalkToScheduleAsync(session, "Picked date (1)", "+13125550114 · SMS · 100 MPS");

        await page.GetByText("Send at a date and time").ClickAsync();
        // What the browser's picker sets: a full value, then input and change events.
        var year = DateTime.UtcNow.Year + 1;
        await page.GetByTestId("send-at").Locator("input").FillAsync($"{year}-02-03T09:05");
        // The zone starts at the browser's and is found by typing part of its name.
        var zone = page.GetByTestId("time-zone").Locator("input");
        await Assertions.Expect(zone).ToHaveValueAsync("Asia/Tokyo");
        await zone.ClickAsync();
        await zone.FillAsync("paris");
        await page.GetByRole(AriaRole.Option, new() { Name = "Europe/Paris" }).ClickAsync();
        await Assertions.Expect(zone).ToHaveValueAsync("Europe/Paris");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("review-start")).ToContainTextAsync($"{year}-02-03 09:05 Europe/Paris");
    }

    [Fact]
    public async Task Duplicate_opens_the_wizard_prefilled_as_a_new_draft_that_is_listed_and_can_be_deleted()
    {
        using var api = browser.App.CreateApiClient();
        var sender = await DispatchTestKit.CreateSenderAsync(api, "+13125550115", 100);
        var group = await DispatchTestKit.InsertGroupAsync(browser.App.Database.ConnectionString,
            Enumerable.Range(7400, 3).Select(i => (DispatchTestKit.Number(i), "{}")), "Harvest list");
        var launcher = browser.App.Services.GetRequiredService<CampaignLauncher>();
        var original = new DraftData
        {
            Name = "Harvest", GroupIds = [group], ContentJson = """{"text":"Harvest time"}""", SenderId = sender,
            SendLater = true, SendAtLocal = DateTime.UtcNow.Date.AddDays(5).AddHours(9), TimeZoneId = "UTC", Mps = 40,
        };
        var (id, _) = await launcher.LaunchAsync(original, original.SendAtUtc());
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync($"/campaigns/{id}");
        await session.WaitForInteractiveAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Duplicate" }).ClickAsync();

        await BrowserSteps.WaitForAddressAsync(page, url => url.Contains("/campaigns/new?draft=", StringComparison.Ordinal), "Opening the saved draft");
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByTestId("will-receive")).ToHaveTextAsync("3");
        for (var i = 0; i < 3; i++)
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        }
        // Same pace and the same schedule mode: a later send, whose new time is asked for.
        await Assertions.Expect(page.GetByTestId("pace-mps").Locator("input")).ToHaveValueAsync("40");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("step-problem")).ToContainTextAsync("Pick the date and time");

        await page.GetByTestId("drafts-link").ClickAsync();
        var row = page.GetByTestId("drafts-list").Locator("tr", new() { HasText = "Copy of Harvest" });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Assertions.Expect(row).ToHaveCountAsync(0);
        await api.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null);
    }

    [Fact]
    public async Task A_test_send_from_the_review_goes_to_my_numbers_marked_test()
    {
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, "+13125550116", 100);
        await DispatchTestKit.InsertGroupAsync(browser.App.Database.ConnectionString, [(DispatchTestKit.Number(7500), "{}")], "Tested list");
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await WalkToScheduleAsync(session, "Tested list (1)", "+13125550116 · SMS · 100 MPS");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        await page.GetByTestId("campaign-name").Locator("input").FillAsync("Try me");
        await page.GetByLabel("Your numbers").FillAsync("+13125550991, +13125550992");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send test" }).ClickAsync();

        await Assertions.Expect(page.GetByText("Test sent to +13125550991, +13125550992.")).ToBeVisibleAsync();
        Assert.Equal(1, await browser.App.ScalarAsync("""SELECT COUNT(*) FROM "Operations" WHERE "Name" = '[TEST] Try me' AND "IsTest" = TRUE AND "Total" = 2"""));
    }

    private static async Task WalkToScheduleAsync(BrowserPage session, string group, string sender)
    {
        var page = session.Page;
        await page.GotoAsync("/campaigns/new");
        await session.WaitForInteractiveAsync();
        await BrowserSteps.OpenSelectAsync(page, "audience-groups", group);
        await page.GetByText(group).ClickAsync();
        await page.Keyboard.PressAsync("Escape");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("See you soon");
        await Assertions.Expect(page.GetByTestId("sms-segments")).ToHaveTextAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await page.GetByText(sender).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Assertions.Expect(page.GetByText("Send at a date and time")).ToBeVisibleAsync();
    }
}
