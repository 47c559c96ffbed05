using BulkCampaigns.Campaigns;
using BulkCampaigns.Data;
using BulkCampaigns.Recipients;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

/// <summary>A marketer's walk with a real contact file (headers "Mobile Number,First Name,last_name,City,Plan,signup_date").</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.PagesOnly)]
[Collection(BrowserCollection.Name)]
public sealed class ContentDefectsBrowserTests(BrowserApp browser)
{
    private async Task<string> SeedContactsAsync(string prefix)
    {
        var name = $"{prefix} {Guid.NewGuid():N}"[..(prefix.Length + 7)];
        var factory = browser.App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        var group = new Group { Name = name, AttributeKeysJson = "[\"First Name\",\"last_name\",\"City\",\"Plan\",\"signup_date\"]", RecipientCount = 1 };
        db.Add(group);
        await db.SaveChangesAsync();
        db.Add(new Recipient { GroupId = group.Id, Address = "+15558880001", Channel = "PHONE", VariablesJson = "{\"First Name\":\"Bea\",\"last_name\":\"Lund\",\"City\":\"Oslo\",\"Plan\":\"Gold\",\"signup_date\":\"2026-01-05\"}" });
        await db.SaveChangesAsync();
        return name;
    }

    [Fact]
    public async Task A_First_Name_column_is_inserted_in_a_working_form_typos_in_filters_are_shown_and_edits_are_not_lost()
    {
        var groupName = await SeedContactsAsync("Contacts");
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/content/new");
        await session.WaitForInteractiveAsync();
        await page.GetByTestId("sample-picker").GetByText("Recipient of a group").ClickAsync();
        await page.GetByTestId("sample-picker").Locator(".mud-select").First.ClickAsync();
        await page.Locator(".mud-popover-open").GetByText(groupName).ClickAsync();
        await Assertions.Expect(page.GetByTestId("sample-address")).ToHaveTextAsync("+15558880001");

        // 1. The menu inserts {{ first_name }} for "First Name", and the preview shows the value.
        var message = page.GetByLabel("Message", new() { Exact = true });
        await page.GetByTestId("message-editor").GetByRole(AriaRole.Button, new() { Name = "Insert placeholder" }).ClickAsync();
        await page.Locator(".mud-popover-open .mud-menu-item").Filter(new() { HasText = "First Name" }).ClickAsync();
        await Assertions.Expect(message).ToHaveValueAsync("{{ first_name }}");
        var phoneText = page.GetByTestId("phone-sms").GetByTestId("phone-text");
        await Assertions.Expect(phoneText).ToHaveTextAsync("Bea");

        // 2. A misspelt filter is named with its place.
        await message.FillAsync("Hi {{ first_name | defualt: 'there' }}!");
        await Assertions.Expect(page.GetByTestId("message-editor").GetByTestId("liquid-error")).ToContainTextAsync("'defualt' at line 1, column 20");

        // 4. Saving says so beside the button, which nothing covers.
        await message.FillAsync("Hi {{ first_name }} from {{ city }}!");
        await Assertions.Expect(phoneText).ToHaveTextAsync("Hi Bea from Oslo!");
        await page.GetByLabel("Template name").FillAsync("Contacts greeting");
        var save = page.GetByRole(AriaRole.Button, new() { Name = "Save" });
        await save.ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/content/cnt_[0-9a-z]+$"));
        await Assertions.Expect(page.GetByTestId("save-status")).ToHaveTextAsync("All changes saved");
        Assert.True(await save.EvaluateAsync<bool>("b => { const r = b.getBoundingClientRect(); return b.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"),
            "something covers the Save button after saving");
        var saved = page.Url;

        // 4. An unsaved edit asks before an in-app link leaves it, and the browser warns before the page is left.
        await message.FillAsync("Hi {{ first_name }}, edited");
        await Assertions.Expect(page.GetByTestId("save-status")).ToHaveTextAsync("Unsaved changes");
        await page.GetByLabel("Back to content").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Dialog)).ToContainTextAsync("Leave and lose them?");
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Stay" }).ClickAsync();
        Assert.Equal(saved, page.Url);
        await Assertions.Expect(message).ToHaveValueAsync("Hi {{ first_name }}, edited");

        string? dialogType = null;
        page.Dialog += async (_, dialog) =>
        {
            dialogType = dialog.Type;
            await dialog.AcceptAsync();
        };
        await page.GotoAsync("/content");
        Assert.Equal("beforeunload", dialogType);
        Assert.Empty(session.ConsoleErrors);
    }

    [Fact]
    public async Task The_wizard_content_step_shows_the_designer_and_a_saved_template_for_a_recipient_of_the_audience()
    {
        var groupName = await SeedContactsAsync("Wizard contacts");
        var templateName = "Welcome " + Guid.NewGuid().ToString("N")[..6];
        await browser.App.Services.GetRequiredService<BulkCampaigns.Content.ContentService>()
            .CreateAsync(templateName, BulkCampaigns.Content.MessageContent.FromText("Hi {{ first_name }}, welcome to {{ Plan }}!"));
        await DeleteDraftsAsync();
        try
        {
            await using var session = await browser.SignedInPageAsync();
            var page = session.Page;
            await page.GotoAsync("/campaigns/new");
            await session.WaitForInteractiveAsync();
            await BrowserSteps.OpenSelectAsync(page, "audience-groups", $"{groupName} (1)");
            await page.GetByText($"{groupName} (1)").ClickAsync();
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(page.GetByTestId("will-receive")).ToHaveTextAsync("1");
            await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

            // The designer's editor, styled, and its phone preview for the audience's recipient.
            var message = page.GetByLabel("Message", new() { Exact = true });
            await message.FillAsync("Hi {{ first_name }} in {{ city }}");
            await Assertions.Expect(page.GetByTestId("sample-address")).ToHaveTextAsync("+15558880001");
            await Assertions.Expect(page.GetByTestId("phone-sms").GetByTestId("phone-text")).ToHaveTextAsync("Hi Bea in Oslo");
            Assert.Equal("4px", await message.EvaluateAsync<string>("e => getComputedStyle(e).borderTopLeftRadius"));
            Assert.True(await message.EvaluateAsync<double>("e => e.getBoundingClientRect().width") > 300, "the editor is a small box");
            Assert.Equal("30px", await page.GetByTestId("phone-sms").EvaluateAsync<string>("e => getComputedStyle(e).borderTopLeftRadius"));

            // A saved template is shown as the recipient gets it, not as Liquid.
            await page.GetByText("Use a saved template").ClickAsync();
            await BrowserSteps.OpenSelectAsync(page, "content-template", templateName);
            await page.Locator(".mud-popover-open").GetByText(templateName).ClickAsync();
            await Assertions.Expect(page.GetByTestId("template-preview").GetByTestId("phone-text")).ToHaveTextAsync("Hi Bea, welcome to Gold!");
            Assert.Empty(session.ConsoleErrors);
        }
        finally
        {
            await DeleteDraftsAsync();
        }
    }

    /// <summary>The wizard keeps one draft per user: this test's must not be the next test's starting point.</summary>
    private async Task DeleteDraftsAsync()
    {
        var factory = browser.App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        await db.Set<CampaignDraft>().ExecuteDeleteAsync();
    }
}
