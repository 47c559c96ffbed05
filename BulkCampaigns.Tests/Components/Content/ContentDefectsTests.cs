using BulkCampaigns.Auth;
using BulkCampaigns.Components.Pages.Campaigns.Wizard;
using BulkCampaigns.Components.Pages.Content;
using BulkCampaigns.Content;
using BulkCampaigns.Data;
using BulkCampaigns.Recipients;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace BulkCampaigns.Tests.Components.Content;

/// <summary>What a marketer with a real contact file ("First Name", "last_name", "City"…) ran into in the designer and the wizard.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class ContentDefectsTests : MudTestContext
{

    public ContentDefectsTests()
    {
        AddDatabaseFile();
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<TemplateRenderer>();
        Services.AddSingleton<BulkCampaigns.Content.TwilioTemplates.ITwilioTemplateSource, BulkCampaigns.Content.TwilioTemplates.SimulatorTemplates>();
        Services.AddSingleton<ContentService>();
        var auth = AddAuthorization();
        auth.SetAuthorized("marketer@example.com");
        auth.SetPolicies(AuthSetup.WritePolicy);
        MigrateDatabase();
    }

    private ContentService Service => Services.GetRequiredService<ContentService>();

    /// <summary>A group imported from a file with headers "Mobile Number,First Name,last_name,City,Plan,signup_date".</summary>
    private long SeedContacts()
    {
        using var db = Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext();
        var group = new Group { Name = "Contacts", AttributeKeysJson = "[\"First Name\",\"last_name\",\"City\",\"Plan\",\"signup_date\"]", RecipientCount = 2 };
        db.Add(group);
        db.SaveChanges();
        db.AddRange(
            new Recipient { GroupId = group.Id, Address = "+15550003001", Channel = "PHONE", VariablesJson = "{\"First Name\":\"Bea\",\"last_name\":\"Lund\",\"City\":\"Oslo\",\"Plan\":\"Gold\",\"signup_date\":\"2026-01-05\"}" },
            new Recipient { GroupId = group.Id, Address = "+15550003002", Channel = "PHONE", VariablesJson = "{\"First Name\":\"Cy\",\"last_name\":\"Ng\",\"City\":\"Lima\",\"Plan\":\"Basic\",\"signup_date\":\"2026-02-01\"}" });
        db.SaveChanges();
        return group.Id;
    }

    private static string PhoneText(IRenderedComponent<IComponent> cut) =>
        cut.Find("[data-testid=phone-sms] [data-testid=phone-text]").TextContent;

    [Fact]
    public void The_placeholder_menu_inserts_the_key_of_a_First_Name_column_and_the_preview_shows_its_value()
    {
        var groupId = SeedContacts();
        var popovers = RenderPopoverProvider();
        MessageContent? reported = null;
        var cut = Render<ContentDesigner>(p => p
            .Add(d => d.Content, MessageContent.FromText(""))
            .Add(d => d.GroupId, groupId)
            .Add(d => d.PreviewDelay, TimeSpan.Zero)
            .Add(d => d.ContentChanged, c => reported = c));
        cut.WaitForAssertion(() => Assert.Equal("+15550003001", cut.Find("[data-testid=sample-address]").TextContent));

        cut.Find("[data-testid=message-editor] button").Click();
        var items = popovers.FindAll(".mud-menu-item").Select(i => i.TextContent.Trim()).ToList();
        Assert.DoesNotContain(items, i => i.Contains("{{ First Name }}", StringComparison.Ordinal));
        popovers.FindAll(".mud-menu-item").First(i => i.TextContent.Contains("First Name", StringComparison.Ordinal)).Click();

        // The designer reports its content from the click's handler, which may finish after Click returns on a busy machine.
        cut.WaitForAssertion(() => Assert.Equal("{{ first_name }}", reported?.Text));
        cut.WaitForAssertion(() => Assert.Equal("Bea", cut.Find("[data-testid=phone-sms] [data-testid=phone-text]").TextContent));
        Assert.Empty(cut.FindAll("[data-testid=liquid-error]"));
    }

    [Fact]
    public void An_unknown_filter_is_shown_under_the_editor_with_its_name_line_and_column()
    {
        RenderPopoverProvider();
        var cut = Render<ContentDesigner>(p => p.Add(d => d.Content, MessageContent.FromText("")).Add(d => d.PreviewDelay, TimeSpan.Zero));

        cut.Find("[data-testid=message-editor] textarea").Input("Hi {{ first_name | defualt: 'there' }}!");

        var error = cut.Find("[data-testid=message-editor] [data-testid=liquid-error]").TextContent;
        Assert.Contains("'defualt' at line 1, column 20", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_rich_card_shows_no_error_until_a_field_is_touched_or_a_save_is_refused()
    {
        RenderPopoverProvider();
        var cut = Render<ContentDesigner>(p => p.Add(d => d.Content, MessageContent.FromText("")).Add(d => d.PreviewDelay, TimeSpan.Zero));

        cut.FindAll("button").First(b => b.TextContent.Contains("Rich card", StringComparison.Ordinal)).Click();

        Assert.Empty(cut.FindAll("[data-testid=preview-problems]"));
        Assert.Empty(cut.FindAll("[data-testid=liquid-error]"));

        await cut.InvokeAsync(() => cut.Instance.RevealProblems());
        Assert.Contains("rcs needs text, media or a richCard", cut.Find("[data-testid=preview-problems]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rich_card_field_shows_its_error_once_it_is_touched()
    {
        RenderPopoverProvider();
        var cut = Render<ContentDesigner>(p => p.Add(d => d.Content, MessageContent.FromText("")).Add(d => d.PreviewDelay, TimeSpan.Zero));
        cut.FindAll("button").First(b => b.TextContent.Contains("Rich card", StringComparison.Ordinal)).Click();

        cut.Find("[data-testid=card-title] textarea").Input("Sale for {{ first_name ");

        Assert.Contains("line 1, column", cut.Find("[data-testid=card-title] [data-testid=liquid-error]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void The_wizard_content_step_previews_a_recipient_of_the_chosen_audience_on_a_phone()
    {
        var groupId = SeedContacts();
        RenderPopoverProvider();
        var cut = Render<ContentStep>(p => p.Add(s => s.GroupIds, [PublicId.Encode(PublicId.Group, groupId)]));
        cut.WaitForAssertion(() => Assert.Equal("+15550003001", cut.Find("[data-testid=sample-address]").TextContent));

        cut.Find("[data-testid=message-editor] textarea").Input("Hi {{ first_name }} from {{ city }}");

        cut.WaitForAssertion(() => Assert.Equal("Hi Bea from Oslo", cut.Find("[data-testid=phone-sms] [data-testid=phone-text]").TextContent));
        Assert.NotEmpty(cut.FindAll("link[rel=stylesheet][href='css/content.css']")); // the editor and the phone are styled here too
        Assert.DoesNotContain("Ana", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_saved_template_in_the_wizard_is_shown_rendered_for_a_recipient_of_the_audience()
    {
        var groupId = SeedContacts();
        var saved = await Service.CreateAsync("Welcome", MessageContent.FromText("Hi {{ first_name }}, welcome to {{ Plan }}!"));
        RenderPopoverProvider();

        var cut = Render<ContentStep>(p => p
            .Add(s => s.ContentId, saved.Template!.PublicId)
            .Add(s => s.GroupIds, [PublicId.Encode(PublicId.Group, groupId)]));

        cut.WaitForAssertion(() => Assert.Equal("Hi Bea, welcome to Gold!", cut.Find("[data-testid=phone-sms] [data-testid=phone-text]").TextContent));
        Assert.DoesNotContain("{{", cut.Find("[data-testid=template-preview]").TextContent, StringComparison.Ordinal);
        Assert.Equal("1", cut.Find("[data-testid=sms-segments]").TextContent);
    }

    [Fact]
    public async Task Leaving_a_template_with_unsaved_edits_asks_first_and_staying_keeps_them()
    {
        var saved = await Service.CreateAsync("Keep", MessageContent.FromText("Hi"));
        RenderPopoverProvider();
        var dialogs = Render<MudDialogProvider>();
        var navigation = Services.GetRequiredService<BunitNavigationManager>();
        var cut = Render<ContentDesignerPage>(p => p.Add(c => c.Id, saved.Template!.PublicId));
        cut.WaitForAssertion(() => cut.Find("[data-testid=message-editor] textarea"));
        var here = navigation.Uri;

        cut.Find("[data-testid=message-editor] textarea").Input("Hi there");
        Assert.Equal("Unsaved changes", cut.Find("[data-testid=save-status]").TextContent);
        await cut.InvokeAsync(() => navigation.NavigateTo("/content"));

        dialogs.WaitForAssertion(() => Assert.Contains("Leave and lose them?", dialogs.Markup, StringComparison.Ordinal));
        dialogs.FindAll("button").First(b => b.TextContent.Contains("Stay", StringComparison.Ordinal)).Click();
        cut.WaitForAssertion(() => Assert.Equal(here, navigation.Uri));
        // The field is the browser's (typing is never written back into it); what the designer holds shows in its preview.
        cut.WaitForAssertion(() => Assert.Equal("Hi there", cut.Find("[data-testid=phone-sms] [data-testid=phone-text]").TextContent));

        cut.FindAll("button").First(b => b.TextContent.Contains("Save", StringComparison.Ordinal)).Click();
        cut.WaitForAssertion(() => Assert.Equal("All changes saved", cut.Find("[data-testid=save-status]").TextContent));
        await cut.InvokeAsync(() => navigation.NavigateTo("/content"));
        cut.WaitForAssertion(() => Assert.EndsWith("/content", navigation.Uri, StringComparison.Ordinal));
    }

}
