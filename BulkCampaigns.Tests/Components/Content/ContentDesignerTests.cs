using BulkCampaigns.Components.Pages.Content;
using BulkCampaigns.Content;
using BulkCampaigns.Data;
using BulkCampaigns.Recipients;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Components.Content;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class ContentDesignerTests : MudTestContext
{

    public ContentDesignerTests()
    {
        AddDatabaseFile();
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<TemplateRenderer>();
        Services.AddSingleton<BulkCampaigns.Content.TwilioTemplates.ITwilioTemplateSource, BulkCampaigns.Content.TwilioTemplates.SimulatorTemplates>();
        Services.AddSingleton<ContentService>();
        MigrateDatabase();
    }

    private IRenderedComponent<ContentDesigner> RenderDesigner(MessageContent? content = null, TimeSpan? delay = null)
    {
        RenderPopoverProvider();
        return Render<ContentDesigner>(p => p
            .Add(d => d.Content, content ?? new MessageContent { Text = "" })
            .Add(d => d.PreviewDelay, delay ?? TimeSpan.Zero));
    }

    private static void Type(IRenderedComponent<ContentDesigner> cut, string text) =>
        cut.Find("[data-testid=message-editor] textarea").Input(text);

    private static string PhoneText(IRenderedComponent<ContentDesigner> cut) =>
        cut.Find("[data-testid=phone-sms] [data-testid=phone-text]").TextContent;

    [Fact]
    public void Typing_updates_the_preview_for_the_sample_recipient()
    {
        var cut = RenderDesigner();

        Type(cut, "Hi {{ first_name }}!");

        Assert.Equal("Hi Ana!", PhoneText(cut));
        Assert.Equal("1", cut.Find("[data-testid=sms-segments]").TextContent);

        Type(cut, "Hi {{ first_name }}! " + new string('x', 160));

        Assert.Equal("2", cut.Find("[data-testid=sms-segments]").TextContent);
    }

    [Fact]
    public void A_Twilio_template_is_found_by_name_its_variable_mapped_to_a_field_and_previewed_for_the_sample_recipient()
    {
        var cut = RenderDesigner(new MessageContent { ContentSid = "", ContentVariables = [] });
        cut.WaitForElement("[data-testid=template-list]");

        cut.Find("[data-testid=template-search] input").Input("ORDER");
        var option = Assert.Single(cut.FindAll("[data-testid=template-option]"));
        Assert.Contains("WhatsApp: approved", option.TextContent, StringComparison.Ordinal);
        option.Click();
        cut.Find("[data-testid=template-variable-1] textarea").Input("{{ first_name }}");
        cut.Find("[data-testid=template-variable-2] textarea").Input("A-{{ address }}");

        cut.WaitForAssertion(() => Assert.StartsWith("Hi Ana, your order A-", PhoneText(cut), StringComparison.Ordinal));
        Assert.Empty(cut.FindAll("[data-testid=preview-problems]"));
    }

    [Fact]
    public void A_Twilio_template_with_a_variable_left_empty_names_it_under_its_field()
    {
        var cut = RenderDesigner(new MessageContent
        {
            ContentSid = BulkCampaigns.Content.TwilioTemplates.SimulatorTemplates.OrderUpdate,
            ContentVariables = new() { ["1"] = "{{ first_name }}", ["2"] = "" },
        });

        cut.WaitForAssertion(() => Assert.Contains("Give {{2}} a value", cut.Find("[data-testid=template-variable-2]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void The_preview_waits_for_typing_to_pause()
    {
        var cut = RenderDesigner(MessageContent.FromText("first"), TimeSpan.FromSeconds(1));
        Assert.Equal("first", PhoneText(cut));

        Type(cut, "second");

        Assert.Equal("first", PhoneText(cut)); // not redrawn on the keystroke itself
        cut.WaitForAssertion(() => Assert.Equal("second", PhoneText(cut)), TimeSpan.FromSeconds(15));
    }

    [Fact]
    public void A_syntax_error_shows_inline_with_line_and_column_and_the_last_good_preview_stays()
    {
        var cut = RenderDesigner();
        Type(cut, "Hi {{ first_name }}!");

        Type(cut, "Hi {{ first_name }}!\n{% if %}");

        var error = cut.Find("[data-testid=message-editor] [data-testid=liquid-error]").TextContent;
        Assert.Contains("line 2, column", error, StringComparison.Ordinal);
        Assert.Equal("Hi Ana!", PhoneText(cut));
        Assert.Contains("phone-stale", cut.Find("[data-testid=phone-sms]").ClassName, StringComparison.Ordinal);

        Type(cut, "Hello {{ first_name }}");

        Assert.Empty(cut.FindAll("[data-testid=liquid-error]"));
        Assert.Equal("Hello Ana", PhoneText(cut));
    }

    [Fact]
    public void A_value_that_looks_like_markup_is_shown_as_text()
    {
        var cut = RenderDesigner();
        cut.FindAll("[data-testid=sample-picker] input")[2].Input("<script>alert(1)</script>");

        Type(cut, "Hi {{ first_name }}");

        Assert.Equal("Hi <script>alert(1)</script>", PhoneText(cut));
        Assert.Empty(cut.FindAll("[data-testid=preview] script"));
    }

    [Fact]
    public void A_placeholder_the_recipients_lack_without_a_default_is_warned_about()
    {
        var cut = RenderDesigner();

        Type(cut, "Hi {{ first_name }} from {{ city }} {{ tier | default: 'member' }}");

        var warning = Assert.Single(cut.FindAll("[data-testid=preview-warning]"));
        Assert.Contains("city", warning.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("tier", warning.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Characters_that_force_ucs2_are_highlighted()
    {
        var cut = RenderDesigner();

        Type(cut, "Olá {{ first_name }} 😀");

        Assert.Equal("UCS-2", cut.Find("[data-testid=sms-encoding]").TextContent);
        Assert.Equal(["á", "😀"], cut.FindAll("[data-testid=sms-highlighted] mark").Select(m => m.TextContent));
    }

    [Fact]
    public void Extension_characters_show_that_they_take_two()
    {
        var cut = RenderDesigner();

        Type(cut, "Price: 5€ [promo]");

        Assert.Equal("GSM-7", cut.Find("[data-testid=sms-encoding]").TextContent);
        Assert.Equal("17", cut.Find("[data-testid=sms-characters]").TextContent);
        Assert.Equal("20", cut.Find("[data-testid=sms-units]").TextContent);
    }

    [Fact]
    public void A_rich_card_with_an_sms_fallback_is_drawn_on_both_phones()
    {
        var content = new MessageContent
        {
            Modules =
            [
                new ContentModule { Rcs = new RichModule { RichCard = new RichCard { Title = "Hi {{ first_name }}", Description = "20% off", Suggestions = [new CardSuggestion { Type = "URL", Title = "Shop", Url = "https://example.com" }] } } },
                new ContentModule { Sms = new SmsModule { Text = "Hi {{ first_name }}, 20% off" } },
            ],
        };

        var cut = RenderDesigner(content);

        Assert.Equal("Hi Ana", cut.Find("[data-testid=phone-rcs] [data-testid=rich-card-title]").TextContent);
        Assert.Contains("Shop", cut.Find("[data-testid=phone-rcs] .rich-card-suggestions").TextContent, StringComparison.Ordinal);
        Assert.Equal("Hi Ana, 20% off", PhoneText(cut));
    }

    [Fact]
    public void Switching_to_a_rich_card_keeps_the_text_as_sms_fallback_and_the_card_is_previewed_as_typed()
    {
        MessageContent? reported = null;
        RenderPopoverProvider();
        var cut = Render<ContentDesigner>(p => p
            .Add(d => d.Content, MessageContent.FromText("Hi {{ first_name }}"))
            .Add(d => d.PreviewDelay, TimeSpan.Zero)
            .Add(d => d.ContentChanged, c => reported = c));

        cut.FindAll("button").First(b => b.TextContent.Contains("Rich card", StringComparison.Ordinal)).Click();
        cut.Find("[data-testid=card-title] textarea").Input("Sale for {{ first_name | upcase }}");

        Assert.Equal("Sale for ANA", cut.Find("[data-testid=phone-rcs] [data-testid=rich-card-title]").TextContent);
        Assert.Equal("Hi Ana", PhoneText(cut));
        Assert.Equal("{\"modules\":[{\"rcs\":{\"richCard\":{\"title\":\"Sale for {{ first_name | upcase }}\"}}},{\"sms\":{\"text\":\"Hi {{ first_name }}\"}}]}", reported!.ToJson());
    }

    [Fact]
    public void Editing_reports_the_content_in_the_api_shape()
    {
        MessageContent? reported = null;
        RenderPopoverProvider();
        var cut = Render<ContentDesigner>(p => p
            .Add(d => d.Content, MessageContent.FromText(""))
            .Add(d => d.PreviewDelay, TimeSpan.Zero)
            .Add(d => d.ContentChanged, c => reported = c));

        Type(cut, "Hi {{ first_name }}");

        Assert.Equal("{\"text\":\"Hi {{ first_name }}\"}", reported!.ToJson());
    }

    [Fact]
    public async Task A_recipient_of_a_group_can_be_chosen_and_stepped_through()
    {
        var factory = Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            var group = new Group { Name = "VIPs", AttributeKeysJson = "[\"first_name\"]", RecipientCount = 2 };
            db.Add(group);
            await db.SaveChangesAsync();
            db.AddRange(
                new Recipient { GroupId = group.Id, Address = "+15550000001", Channel = "PHONE", VariablesJson = "{\"first_name\":\"Bea\"}" },
                new Recipient { GroupId = group.Id, Address = "+15550000002", Channel = "PHONE", VariablesJson = "{\"first_name\":\"Cy\"}" });
            await db.SaveChangesAsync();
        }
        var service = Services.GetRequiredService<ContentService>();
        var groups = await service.GroupsAsync();
        var first = await service.SampleAsync(groups[0].Id);
        var second = await service.SampleAsync(groups[0].Id, first!.Id);
        var back = await service.SampleAsync(groups[0].Id, second!.Id, backwards: true);
        var searched = await service.SampleAsync(groups[0].Id, search: "15550000002");

        Assert.Equal("Bea", first.Variables["first_name"]);
        Assert.Equal("Cy", second.Variables["first_name"]);
        Assert.Equal(first.Id, back!.Id);
        Assert.Equal("+15550000002", searched!.Address);
        Assert.Null(await service.SampleAsync(groups[0].Id, search: "+4"));
    }

}
