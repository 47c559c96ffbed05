using BulkCampaigns.Components.Pages.Content;
using BulkCampaigns.Content;
using BulkCampaigns.Data;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Components.Content;

/// <summary>The designer's A/B variants: a tab per variant, each with its own editor and live preview.</summary>
public sealed class VariantDesignerTests : MudTestContext
{
    private MessageContent? _reported;

    public VariantDesignerTests()
    {
        AddDatabaseFile();
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<TemplateRenderer>();
        Services.AddSingleton<BulkCampaigns.Content.TwilioTemplates.ITwilioTemplateSource, BulkCampaigns.Content.TwilioTemplates.SimulatorTemplates>();
        Services.AddSingleton<ContentService>();
        MigrateDatabase();
    }

    private IRenderedComponent<VariantDesigner> RenderDesigner(MessageContent content)
    {
        RenderPopoverProvider();
        return Render<VariantDesigner>(p => p
            .Add(d => d.Content, content)
            .Add(d => d.PreviewDelay, TimeSpan.Zero)
            .Add(d => d.ContentChanged, c => _reported = c));
    }

    /// <summary>The A/B switch, as a click on it would.</summary>
    private static void TurnOn(IRenderedComponent<VariantDesigner> cut)
    {
        var toggle = cut.FindComponent<MudBlazor.MudSwitch<bool>>();
        cut.InvokeAsync(() => toggle.Instance.ValueChanged.InvokeAsync(true)).GetAwaiter().GetResult();
    }

    private static List<string> Previews(IRenderedComponent<VariantDesigner> cut) =>
        cut.FindAll("[data-testid=variant-panel] [data-testid=phone-sms] [data-testid=phone-text]").Select(e => e.TextContent).ToList();

    [Fact]
    public void Turning_on_the_test_makes_a_tab_per_variant_each_with_its_own_editor_and_live_preview()
    {
        var cut = RenderDesigner(MessageContent.FromText("Hi {{ first_name }}!"));
        Assert.Empty(cut.FindAll("[data-testid=variant-panel]"));

        TurnOn(cut);

        cut.WaitForAssertion(() => Assert.Equal(["A", "B"], cut.FindAll(".mud-tab").Select(t => t.TextContent.Trim())));
        Assert.Equal(2, cut.FindAll("[data-testid=variant-panel]").Count);
        // B starts as a copy of what was written; editing it changes only B's preview.
        cut.FindAll("[data-testid=variant-panel]")[1].QuerySelector("[data-testid=message-editor] textarea")!.Input("Last chance, {{ first_name }}!");
        cut.WaitForAssertion(() => Assert.Equal(["Hi Ana!", "Last chance, Ana!"], Previews(cut)));

        Assert.NotNull(_reported?.Variants);
        Assert.Equal(["A", "B"], _reported!.Variants!.Select(v => v.Name));
        Assert.Equal("Last chance, {{ first_name }}!", _reported.Variants[1].Content!.Text);
        Assert.Empty(ContentRules.Validate(_reported, Services.GetRequiredService<TemplateRenderer>()));
    }

    [Fact]
    public async Task In_the_wizard_an_edit_handed_back_as_the_draft_keeps_each_variants_editor_so_typing_goes_on_in_the_same_field()
    {
        RenderPopoverProvider();
        string? written = null;
        // The wizard's content step keeps each reported content as its draft and passes it back down.
        var cut = Render<BulkCampaigns.Components.Pages.Campaigns.Wizard.ContentStep>(p => p
            .Add(s => s.TrackLinks, true)
            .Add(s => s.Changed, c => written = c.ContentJson));
        cut.Find("[data-testid=message-editor] textarea").Input("Hi {{ first_name }}!");
        var designer = cut.FindComponent<VariantDesigner>();
        await cut.InvokeAsync(() => designer.FindComponent<MudBlazor.MudSwitch<bool>>().Instance.ValueChanged.InvokeAsync(true));
        var editors = cut.FindComponents<ContentDesigner>().Select(c => c.Instance).ToList();
        Assert.Equal(2, editors.Count);

        // Found and typed into in one step: the field is bound (@bind), so each render gives its input a new handler.
        await cut.InvokeAsync(() => cut.FindAll("[data-testid=variant-panel]")[1].QuerySelector("[data-testid=message-editor] textarea")!.Input("Last"));
        await cut.InvokeAsync(() => cut.FindAll("[data-testid=variant-panel]")[1].QuerySelector("[data-testid=message-editor] textarea")!.Input("Last chance, {{ first_name }}!"));

        // The same editors (a new one would be a new field in the browser, losing the focus and what is typed next).
        Assert.Equal(editors, cut.FindComponents<ContentDesigner>().Select(c => c.Instance));
        cut.WaitForAssertion(() => Assert.Equal(["Hi Ana!", "Last chance, Ana!"], cut.FindAll("[data-testid=variant-panel] [data-testid=phone-sms] [data-testid=phone-text]").Select(e => e.TextContent).ToList()));
        var content = MessageContent.FromJson(written!);
        Assert.Equal(["Hi {{ first_name }}!", "Last chance, {{ first_name }}!"], content.Variants!.Select(v => v.Content!.Text));
    }

    [Fact]
    public async Task A_stored_test_opens_with_its_variants_and_a_weight_of_zero_is_named_under_its_field()
    {
        var cut = RenderDesigner(new MessageContent
        {
            Variants =
            [
                new() { Name = "Short", Weight = 70, Content = MessageContent.FromText("Sale today") },
                new() { Name = "Long", Weight = 30, Content = MessageContent.FromText("Our sale ends today, {{ first_name }}") },
            ],
            Test = new VariantTest { Share = 10, DecideAfter = "PT2H", Metric = "delivered" },
        });
        cut.WaitForAssertion(() => Assert.Equal(["Short", "Long"], cut.FindAll(".mud-tab").Select(t => t.TextContent.Trim())));
        cut.WaitForAssertion(() => Assert.Equal(["Sale today", "Our sale ends today, Ana"], Previews(cut)));
        Assert.Equal(["70%", "30%"], cut.FindAll("[data-testid=variant-share]").Select(e => e.TextContent.Split(' ')[0]));

        // B's weight field (the panels come before the test's fields), as typing 0 into it would.
        var weight = cut.FindComponents<MudBlazor.MudNumericField<double?>>()[1];
        await cut.InvokeAsync(() => weight.Instance.ValueChanged.InvokeAsync(0));

        var problem = cut.Find("[data-testid=variant-problems] [data-field]");
        Assert.Equal("content.variants[1].weight", problem.GetAttribute("data-field"));
        Assert.Equal(0, _reported!.Variants![1].Weight);
        Assert.Equal("PT2H", _reported.Test!.DecideAfter);
    }

    [Fact]
    public void Variants_can_be_added_up_to_five_and_removed_down_to_two()
    {
        var cut = RenderDesigner(MessageContent.FromText("Hello"));
        TurnOn(cut);
        for (var i = 0; i < 3; i++)
        {
            cut.Find("[data-testid=add-variant]").Click();
        }
        // MudTabs draws a new panel's tab header in its next render, which a busy machine may not have reached yet.
        cut.WaitForAssertion(() => Assert.Equal(["A", "B", "C", "D", "E"], cut.FindAll(".mud-tab").Select(t => t.TextContent.Trim())));
        Assert.Empty(cut.FindAll("[data-testid=add-variant]"));
        for (var left = 4; left >= 2; left--)
        {
            cut.FindAll("[data-testid=remove-variant]")[0].Click();
            // Each removal is drawn (and reported) before the next button is looked for.
            cut.WaitForAssertion(() => Assert.Equal(left, cut.FindAll(".mud-tab").Count));
        }
        cut.WaitForAssertion(() => Assert.Equal(2, _reported!.Variants!.Count));
        Assert.Empty(cut.FindAll("[data-testid=remove-variant]"));
    }

    [Fact]
    public async Task The_clicked_rate_can_be_chosen_as_the_tests_metric()
    {
        var cut = RenderDesigner(new MessageContent
        {
            Variants =
            [
                new() { Name = "A", Weight = 50, Content = MessageContent.FromText("Sale https://shop.example/a") },
                new() { Name = "B", Weight = 50, Content = MessageContent.FromText("Sale https://shop.example/b") },
            ],
            Test = new VariantTest { Share = 20, DecideAfter = "PT4H", Metric = "delivered" },
            TrackLinks = true,
        });
        var metric = cut.FindComponents<MudBlazor.MudSelect<string>>().Single(s => s.Instance.Label == "Best by");
        await cut.InvokeAsync(() => metric.Instance.OpenMenu());
        var clicked = cut.FindComponents<MudBlazor.MudSelectItem<string>>().Single(i => i.Instance.Value == ContentRules.MetricClicked);
        Assert.False(clicked.Instance.Disabled);

        await cut.InvokeAsync(() => metric.Instance.ValueChanged.InvokeAsync(ContentRules.MetricClicked));

        Assert.Equal(ContentRules.MetricClicked, _reported!.Test!.Metric);
        Assert.Empty(ContentRules.Validate(_reported, Services.GetRequiredService<TemplateRenderer>()));
        Assert.Empty(cut.FindAll("[data-testid=variant-problems] [data-field]"));
    }
}
