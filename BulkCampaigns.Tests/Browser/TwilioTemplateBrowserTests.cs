using System.Net.Http.Json;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

[Trait(DatabaseTrait.Name, DatabaseTrait.PagesOnly)]
[Collection(BrowserCollection.Name)]
public sealed class TwilioTemplateBrowserTests(BrowserApp browser)
{
    [Fact]
    public async Task A_marketer_picks_a_Twilio_template_by_name_maps_its_variable_and_the_review_refuses_it_on_WhatsApp_by_name()
    {
        using var api = browser.App.CreateApiClient();
        (await api.PostAsJsonAsync("/v1/Senders", new { address = "+13125550171", channel = "WHATSAPP", mps = 10 })).EnsureSuccessStatusCode();
        var recipients = Enumerable.Range(7600, 3).Select(i => (DispatchTestKit.Number(i), $$"""{"first_name":"Zoë {{i}}","code":"K-{{i}}"}"""));
        await DispatchTestKit.InsertGroupAsync(browser.App.Database.ConnectionString, recipients, "WhatsApp members");
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/campaigns/new");
        await session.WaitForInteractiveAsync();

        await BrowserSteps.OpenSelectAsync(page, "audience-groups", "WhatsApp members (3)");
        await page.GetByText("WhatsApp members (3)").ClickAsync();
        await page.Keyboard.PressAsync("Escape");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        // The designer's template picker: search by name, pick, map the variable to a recipient field, see it for a recipient.
        await page.GetByText("Twilio template", new() { Exact = true }).ClickAsync();
        await page.GetByTestId("template-search").Locator("input").FillAsync("login");
        await Assertions.Expect(page.GetByTestId("template-option")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("template-catalogue-error")).ToHaveCountAsync(0);
        await page.GetByTestId("template-option").Filter(new() { HasText = "login_code" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("template-picked")).ToContainTextAsync("login_code");
        await page.GetByTestId("template-variable-1").Locator("textarea").First.FillAsync("{{ code }}");
        await Assertions.Expect(page.GetByTestId("phone-sms").GetByTestId("phone-text")).ToHaveTextAsync("Your login code is K-7600. It expires in 10 minutes.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        await page.GetByText("+13125550171 · WHATSAPP · 10 MPS").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        // WhatsApp rejected this template: the review names it, and the launch is refused at the content step.
        await page.GetByTestId("campaign-name").Locator("input").FillAsync("Login codes");
        await Assertions.Expect(page.GetByTestId("template-problem")).ToContainTextAsync("Template \"login_code\" is not approved for WhatsApp (its status: rejected)");
        await Assertions.Expect(page.GetByTestId("review-sample")).ToHaveTextAsync("Your login code is K-7600. It expires in 10 minutes.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Launch" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("step-problem")).ToContainTextAsync("\"login_code\" is not approved for WhatsApp");
        Assert.Contains("/campaigns/new", page.Url, StringComparison.Ordinal);
    }
}
