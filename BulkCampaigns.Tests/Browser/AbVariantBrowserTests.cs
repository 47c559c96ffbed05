using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using BulkCampaigns.Data;
using BulkCampaigns.Operations;
using BulkCampaigns.Simulator;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BulkCampaigns.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class AbVariantBrowserTests(ReliableCarrierBrowserApp browser) : IClassFixture<ReliableCarrierBrowserApp>
{
    private const string Sender = "+13125550168";
    private const int People = 40;
    private static readonly string[] FirstNames = ["Zoë", "José", "Nguyễn Thị Minh", "Łukasz", "Søren", "Ayşe", "Иван", "Ann"];

    private static string TextA(string firstName) => $"Hi {firstName}, spring sale: 20% off today.";
    private static string TextB(string firstName) => $"{firstName}, last day of the spring sale!";

    [Fact]
    public async Task A_marketer_writes_two_variants_each_with_its_live_preview_weights_them_75_25_and_each_recipient_gets_one_of_them_in_those_shares()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        using var api = browser.App.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, Sender, 500);

        // A contact file as a marketer brings it: "Mobile Number" and "First Name", numbers written two ways.
        var firstNameByNumber = new Dictionary<string, string>(StringComparer.Ordinal);
        var csv = new StringBuilder("Mobile Number,First Name,City\r\n");
        for (var i = 0; i < People; i++)
        {
            var number = DispatchTestKit.Number(8600 + i);
            var firstName = FirstNames[i % FirstNames.Length];
            firstNameByNumber[number] = firstName;
            var written = i % 2 == 0 ? $"+1 {number[2..5]}-{number[5..8]}-{number[8..]}" : $"({number[2..5]}) {number[5..8]}-{number[8..]}";
            csv.Append(CultureInfo.InvariantCulture, $"{written},{firstName},\"Portland, Oregon\"\r\n");
        }
        var file = $"spring-ab-{suffix}.csv";
        await File.WriteAllTextAsync(Path.Combine(browser.App.DataFolder, file), csv.ToString(), new UTF8Encoding(false));

        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        var group = "Spring A/B " + suffix;
        await BrowserSteps.OpenNewGroupAsync(session, group);
        await BrowserSteps.ChooseContactFileAsync(page, Path.Combine(browser.App.DataFolder, file));
        await BrowserSteps.ExpectMappingAsync(page, timeout: 15_000);
        await page.GetByRole(AriaRole.Button, new() { Name = $"Import {file}" }).ClickAsync();
        await Expect(page.GetByTestId("import-summary")).ToContainTextAsync("Import finished", new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("group-count")).ToHaveTextAsync($"{People} recipients");

        await page.GotoAsync("/campaigns/new");
        await session.WaitForInteractiveAsync();
        await BrowserSteps.OpenSelectAsync(page, "audience-groups", $"{group} ({People})");
        await page.Locator(".mud-popover-open").GetByText($"{group} ({People})").ClickAsync();
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.GetByTestId("will-receive")).ToHaveTextAsync($"{People}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        // One message written, then the A/B test: A and B start as copies of it, a tab each.
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("Hi {{ first_name }}, spring sale: 20% off today.");
        await page.GetByText("A/B test: send variants and compare them").ClickAsync();
        var tabs = page.GetByTestId("variant-tabs").GetByRole(AriaRole.Tab);
        await Expect(tabs).ToHaveTextAsync(["A", "B"]);
        var panelA = page.Locator("[data-testid=variant-panel][data-variant=A]");
        var panelB = page.Locator("[data-testid=variant-panel][data-variant=B]");

        // B gets its own text and weight; its preview shows B for the audience's recipient.
        await tabs.GetByText("B", new() { Exact = true }).ClickAsync();
        var messageB = panelB.GetByLabel("Message", new() { Exact = true });
        await messageB.FillAsync("{{ first_name }}, last day of the spring sale");
        var sampleB = await BrowserSteps.SampleAddressAsync(panelB.GetByTestId("sample-address"));
        await Expect(panelB.GetByTestId("phone-sms").GetByTestId("phone-text")).ToHaveTextAsync(TextB(firstNameByNumber[sampleB])[..^1]);
        // The edit went to the wizard and back, and the field is still the one being typed in: the next key lands in it.
        await page.Keyboard.PressAsync("!");
        await Expect(messageB).ToHaveValueAsync("{{ first_name }}, last day of the spring sale!");
        await panelB.GetByLabel("Weight", new() { Exact = true }).FillAsync("25");
        await Expect(panelB.GetByTestId("phone-sms").GetByTestId("phone-text")).ToHaveTextAsync(TextB(firstNameByNumber[sampleB]));

        // A keeps the first text, with a preview of its own, and takes three quarters.
        await tabs.GetByText("A", new() { Exact = true }).ClickAsync();
        await panelA.GetByLabel("Weight", new() { Exact = true }).FillAsync("75");
        var sampleA = await BrowserSteps.SampleAddressAsync(panelA.GetByTestId("sample-address"));
        await Expect(panelA.GetByTestId("phone-sms").GetByTestId("phone-text")).ToHaveTextAsync(TextA(firstNameByNumber[sampleA]));
        await Expect(panelA.GetByTestId("variant-share")).ToHaveTextAsync("75% of the audience");
        await tabs.GetByText("B", new() { Exact = true }).ClickAsync();
        await Expect(panelB.GetByTestId("variant-share")).ToHaveTextAsync("25% of the audience");
        await Expect(panelB.GetByTestId("phone-sms").GetByTestId("phone-text")).ToHaveTextAsync(TextB(firstNameByNumber[sampleB]));
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        await page.GetByText(new Regex($"^\\{Sender} · SMS")).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await page.GetByText("Send as soon as I launch").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        var campaign = "Spring A/B " + suffix;
        await page.GetByTestId("campaign-name").Locator("input").FillAsync(campaign);
        await Expect(page.GetByTestId("review-audience")).ToContainTextAsync($"{group} · {People} will receive");
        await page.GetByTestId("launch").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Launch now" }).ClickAsync();

        await BrowserSteps.WaitForAddressAsync(page, url => url.Contains("/campaigns/comms_operation_", StringComparison.Ordinal), "Opening the campaign's dashboard");
        await session.WaitForInteractiveAsync();
        await Expect(page.GetByTestId("campaign-percent")).ToHaveTextAsync("100%", new() { Timeout = 60_000 });

        // Each recipient received exactly one message, with A's or B's text, greeted by their own First Name.
        var factory = browser.App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        var received = await db.Set<SimulatorMessage>().Where(m => m.From == Sender).Select(m => new { m.To, m.Body }).ToListAsync();
        Assert.Equal(People, received.Count);
        Assert.Equal(firstNameByNumber.Keys.Order(), received.Select(m => m.To).Order());
        var gotA = received.Count(m => m.Body == TextA(firstNameByNumber[m.To]));
        var gotB = received.Count(m => m.Body == TextB(firstNameByNumber[m.To]));
        Assert.Equal(People, gotA + gotB);
        // The split is cut by the weights to one recipient: 30 and 10 of 40.
        Assert.InRange(gotA, 29, 31);
        // The variant the engine stored for each message is the one its phone got.
        Assert.True(PublicId.TryDecode(PublicId.Operation, page.Url[(page.Url.LastIndexOf('/') + 1)..], out var operationId));
        var variantByNumber = await db.Set<Message>().Where(m => m.OperationId == operationId).ToDictionaryAsync(m => m.Address, m => m.Variant);
        Assert.All(received, m => Assert.Equal(m.Body == TextA(firstNameByNumber[m.To]) ? 0 : 1, variantByNumber[m.To]));

        // The dashboard compares both: their shares, what each was given and sent.
        var comparison = page.GetByTestId("variant-comparison");
        await Expect(comparison.GetByTestId("variant-row")).ToHaveCountAsync(2);
        var rowA = comparison.Locator("[data-testid=variant-row][data-variant=A]");
        var rowB = comparison.Locator("[data-testid=variant-row][data-variant=B]");
        await Expect(rowA.GetByTestId("variant-share")).ToHaveTextAsync("75%");
        await Expect(rowB.GetByTestId("variant-share")).ToHaveTextAsync("25%");
        await Expect(rowA.GetByTestId("variant-total")).ToHaveTextAsync($"{gotA}");
        await Expect(rowB.GetByTestId("variant-total")).ToHaveTextAsync($"{gotB}");
        await Expect(rowA.GetByTestId("variant-sent")).ToHaveTextAsync($"{gotA}");
        await Expect(rowB.GetByTestId("variant-sent")).ToHaveTextAsync($"{gotB}");
        await Expect(rowA.GetByTestId("variant-failed")).ToHaveTextAsync(new Regex(@"^\d+$"));
        await Expect(rowA.GetByTestId("variant-delivery-rate")).ToHaveTextAsync(new Regex(@"^\d{1,3}\.\d%$"));
        Assert.Empty(session.ConsoleErrors);
    }
}
