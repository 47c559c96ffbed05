using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class ContentDesignerBrowserTests(BrowserApp browser)
{
    [Fact]
    public async Task Typing_a_template_shows_the_personalized_preview_and_the_segment_count_follows()
    {
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/content/new");
        await session.WaitForInteractiveAsync();

        var message = page.GetByLabel("Message", new() { Exact = true });
        await message.FillAsync("Hi {{ first_name | upcase }}, see you soon!");

        var phoneText = page.GetByTestId("phone-sms").GetByTestId("phone-text");
        await Assertions.Expect(phoneText).ToHaveTextAsync("Hi ANA, see you soon!");
        await Assertions.Expect(page.GetByTestId("sms-segments")).ToHaveTextAsync("1");
        await Assertions.Expect(page.GetByTestId("sms-encoding")).ToHaveTextAsync("GSM-7");

        await message.FillAsync("Hi {{ first_name }} 😀 " + new string('x', 70));

        await Assertions.Expect(page.GetByTestId("sms-encoding")).ToHaveTextAsync("UCS-2");
        await Assertions.Expect(page.GetByTestId("sms-segments")).ToHaveTextAsync("2");
        await Assertions.Expect(page.GetByTestId("sms-highlighted").Locator("mark")).ToHaveTextAsync("😀");

        await message.FillAsync("Hi {{ first_name ");

        await Assertions.Expect(page.GetByTestId("liquid-error")).ToContainTextAsync("line 1, column");
        await Assertions.Expect(phoneText).ToContainTextAsync("Hi Ana 😀"); // the last good preview stays

        await message.FillAsync("Hello {{ first_name }}!");
        await page.GetByLabel("Template name").FillAsync("Browser greeting");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("/content/cnt_", StringComparison.Ordinal));

        await page.GotoAsync("/content");
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByTestId("content-list").GetByText("Browser greeting")).ToBeVisibleAsync();
        Assert.Empty(session.ConsoleErrors);
    }
}
