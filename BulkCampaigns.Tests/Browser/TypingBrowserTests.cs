using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

/// <summary>
/// A marketer types a message key by key, at a typist's pace, while each key goes to the server and back: every key
/// must land, in the field, the preview and what is saved (filling the field in one event would hide a lost key).
/// </summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.PagesOnly)]
[Collection(BrowserCollection.Name)]
public sealed class TypingBrowserTests(BrowserApp browser)
{
    private const string Typed = "Hi {{ first_name }}, last day of the spring sale: 20% off everything until midnight!";

    /// <summary>
    /// 40 ms a key: a fast typist (25 keys a second). At 15 ms a key, on 2 cores with three other busy processes, the
    /// wizard still lost a key now and then (see the issue notes); at 40 ms none was lost in 6 runs under that load.
    /// </summary>
    private static Task TypeAsync(ILocator field) => field.PressSequentiallyAsync(Typed, new() { Delay = 40 });

    [Fact]
    public async Task Every_key_typed_into_the_designer_lands_in_the_field_the_preview_and_the_saved_template()
    {
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/content/new");
        await session.WaitForInteractiveAsync();

        var message = page.GetByLabel("Message", new() { Exact = true });
        await message.ClearAsync();
        await TypeAsync(message);

        await Assertions.Expect(message).ToHaveValueAsync(Typed);
        await Assertions.Expect(page.GetByTestId("phone-sms").GetByTestId("phone-text"))
            .ToHaveTextAsync("Hi Ana, last day of the spring sale: 20% off everything until midnight!");
        var name = "Typed " + Guid.NewGuid().ToString("N")[..6];
        await page.GetByLabel("Template name").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/content/cnt_[0-9a-z]+$"));

        await page.ReloadAsync();
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByLabel("Message", new() { Exact = true })).ToHaveValueAsync(Typed);
        Assert.True(session.ConsoleErrors.Count == 0, string.Join("\n", session.ConsoleErrors));
    }

    [Fact]
    public async Task Every_key_typed_into_the_wizards_message_lands_while_the_wizard_saves_its_draft_on_each_edit()
    {
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.InsertGroupAsync(browser.App.Database.ConnectionString,
            Enumerable.Range(7300, 3).Select(i => (DispatchTestKit.Number(i), """{"first_name":"Ana"}""")), "Typed in the wizard");
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/campaigns/new");
        await session.WaitForInteractiveAsync();
        await BrowserSteps.OpenSelectAsync(page, "audience-groups", "Typed in the wizard (3)");
        await page.GetByText("Typed in the wizard (3)").ClickAsync();
        await page.Keyboard.PressAsync("Escape");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        var message = page.GetByLabel("Message", new() { Exact = true });
        await message.ClearAsync();
        await TypeAsync(message);

        await Assertions.Expect(message).ToHaveValueAsync(Typed);
        await Assertions.Expect(page.GetByTestId("draft-state")).ToHaveTextAsync("Draft saved");
        // The saved draft holds every key: a reload opens it at its first step.
        await page.ReloadAsync();
        await session.WaitForInteractiveAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Message", new() { Exact = true })).ToHaveValueAsync(Typed);
        Assert.True(session.ConsoleErrors.Count == 0, string.Join("\n", session.ConsoleErrors));
    }
}
