using BulkCampaigns.Data;
using BulkCampaigns.Recipients;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

[Trait(DatabaseTrait.Name, DatabaseTrait.PagesOnly)]
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
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/content/cnt_[0-9a-z]+$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Edit template" })).ToBeVisibleAsync();

        await page.GotoAsync("/content");
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByTestId("content-list").GetByText("Browser greeting")).ToBeVisibleAsync();
        Assert.Empty(session.ConsoleErrors);
    }

    [Fact]
    public async Task A_group_recipient_is_previewed_stepped_through_and_its_attributes_are_offered_as_placeholders()
    {
        var groupName = "Browser VIPs " + Guid.NewGuid().ToString("N")[..6];
        var factory = browser.App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            var group = new Group { Name = groupName, AttributeKeysJson = "[\"first_name\",\"city\"]", RecipientCount = 2 };
            db.Add(group);
            await db.SaveChangesAsync();
            db.AddRange(
                new Recipient { GroupId = group.Id, Address = "+15557770001", Channel = "PHONE", VariablesJson = "{\"first_name\":\"Bea\",\"city\":\"Oslo\"}" },
                new Recipient { GroupId = group.Id, Address = "+15557770002", Channel = "PHONE", VariablesJson = "{\"first_name\":\"<script>\",\"city\":\"Lima\"}" });
            await db.SaveChangesAsync();
        }
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/content/new");
        await session.WaitForInteractiveAsync();

        await page.GetByTestId("sample-picker").GetByText("Recipient of a group").ClickAsync();
        await page.GetByTestId("sample-picker").Locator(".mud-select").First.ClickAsync();
        await page.Locator(".mud-popover-open").GetByText(groupName).ClickAsync();
        await Assertions.Expect(page.GetByTestId("sample-address")).ToHaveTextAsync("+15557770001");

        var message = page.GetByLabel("Message", new() { Exact = true });
        await message.FillAsync("Hi ! See you in .");
        await message.EvaluateAsync("e => e.setSelectionRange(3, 3)");
        await page.GetByTestId("message-editor").GetByRole(AriaRole.Button, new() { Name = "Insert placeholder" }).ClickAsync();
        await Assertions.Expect(page.Locator(".mud-popover-open").GetByText("{{ city }}", new() { Exact = true })).ToBeVisibleAsync(); // the group's attribute
        await page.Locator(".mud-popover-open").GetByText("{{ first_name }}", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(message).ToHaveValueAsync("Hi {{ first_name }}! See you in .");

        var phoneText = page.GetByTestId("phone-sms").GetByTestId("phone-text");
        await Assertions.Expect(phoneText).ToHaveTextAsync("Hi Bea! See you in .");

        await page.GetByLabel("Following recipient").ClickAsync();
        await Assertions.Expect(page.GetByTestId("sample-address")).ToHaveTextAsync("+15557770002");
        await Assertions.Expect(phoneText).ToHaveTextAsync("Hi <script>! See you in .");
        Assert.Empty(await page.GetByTestId("phone-sms").Locator("script").AllAsync());

        await page.GetByLabel("Search by address").FillAsync("+4477");
        await page.GetByLabel("Search by address").PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("sample-not-found")).ToContainTextAsync("+4477");
        await Assertions.Expect(page.GetByTestId("sample-address")).ToHaveTextAsync("+15557770002");

        await page.GetByLabel("Search by address").FillAsync("15557770001");
        await page.GetByLabel("Search by address").PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("sample-address")).ToHaveTextAsync("+15557770001");
        await Assertions.Expect(phoneText).ToHaveTextAsync("Hi Bea! See you in .");
        Assert.Empty(session.ConsoleErrors);
    }

    [Fact]
    public async Task A_template_in_the_list_is_duplicated_and_deleted_after_a_confirm()
    {
        var name = "Listed " + Guid.NewGuid().ToString("N")[..6];
        var service = browser.App.Services.GetRequiredService<BulkCampaigns.Content.ContentService>();
        await service.CreateAsync(name, BulkCampaigns.Content.MessageContent.FromText("Hi {{ first_name }}"));
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/content");
        await session.WaitForInteractiveAsync();
        var list = page.GetByTestId("content-list");
        await Assertions.Expect(list.GetByRole(AriaRole.Row).Filter(new() { HasText = name }).First).ToContainTextAsync("SMS");

        await page.GetByLabel($"Duplicate {name}", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(list.GetByText($"{name} (copy)")).ToBeVisibleAsync();

        await page.GetByLabel($"Delete {name} (copy)", new() { Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Keep it" }).ClickAsync();
        await Assertions.Expect(list.GetByText($"{name} (copy)")).ToBeVisibleAsync();
        await page.GetByLabel($"Delete {name} (copy)", new() { Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();

        await Assertions.Expect(list.GetByText($"{name} (copy)")).ToHaveCountAsync(0);
        await Assertions.Expect(list.GetByText(name, new() { Exact = true })).ToBeVisibleAsync();
        Assert.Empty(session.ConsoleErrors);
    }
}
