using BulkCampaigns.Auth;
using BulkCampaigns.Campaigns;
using BulkCampaigns.Components.Pages.Campaigns;
using BulkCampaigns.Components.Pages.Dashboard;
using BulkCampaigns.Components.Pages.Suppressions;
using BulkCampaigns.Components.Shared;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Recipients;
using BulkCampaigns.Suppressions;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace BulkCampaigns.Tests.Components;

/// <summary>Campaign pieces found wrong in the walk-through, rendered alone.</summary>
public sealed class CampaignPagesTests : MudTestContext
{
    private static OperationView Op(OperationStatus status, long total, long sent = 0, long delivered = 0, long canceled = 0, long queued = 0) =>
        OperationView.Of(new Operation
        {
            Id = 42, Name = "Spring sale", Status = status, Total = total, Sent = sent, Delivered = delivered, Canceled = canceled, Queued = queued,
            FromAddress = "+13125550100", FromChannel = "SMS", ContentJson = "{}",
            CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        });

    [Fact]
    public void A_canceled_campaign_says_canceled_and_how_many_were_sent_not_100_percent_finished()
    {
        var canceled = Op(OperationStatus.Canceled, total: 120, sent: 10, delivered: 30, canceled: 80);

        var cut = Render<CampaignProgress>(p => p.Add(c => c.Operation, canceled));

        Assert.Equal("Canceled", cut.Find("[data-testid=campaign-percent]").TextContent);
        Assert.Equal("40 of 120 sent before the cancel", cut.Find("[data-testid=campaign-done]").TextContent);
        Assert.Equal("Canceled: 80 messages not sent", cut.Find("[data-testid=time-left]").TextContent);
        Assert.DoesNotContain("100%", cut.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("Finished", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void A_canceled_campaign_in_the_list_says_how_far_it_got()
    {
        Assert.Equal("Canceled after 40 of 120 sent", CampaignFigures.ProgressText(Op(OperationStatus.Canceled, total: 120, sent: 40, canceled: 80)));
        Assert.Equal("50% of 120", CampaignFigures.ProgressText(Op(OperationStatus.Processing, total: 120, sent: 60, queued: 60)));
    }

    [Fact]
    public void A_completed_campaign_still_shows_100_percent_finished()
    {
        var cut = Render<CampaignProgress>(p => p.Add(c => c.Operation, Op(OperationStatus.Completed, total: 120, delivered: 120)));

        Assert.Equal("100%", cut.Find("[data-testid=campaign-percent]").TextContent);
        Assert.Equal("Finished", cut.Find("[data-testid=time-left]").TextContent);
    }

    [Theory]
    [InlineData(1, "1 step to your first campaign.")]
    [InlineData(3, "3 steps to your first campaign.")]
    public void The_checklist_ticks_what_is_done_and_counts_the_steps_left(int left, string expected)
    {
        var steps = left == 1 ? new FirstRunSteps(true, true, true, false) : new FirstRunSteps(true, false, false, false);

        var cut = Render<FirstRunChecklist>(p => p.Add(c => c.Steps, steps));

        Assert.Contains(expected, cut.Markup, StringComparison.Ordinal);
        Assert.Equal("true", cut.Find("[data-step='Add a sender']").GetAttribute("data-done"));
        Assert.Equal("false", cut.Find("[data-step='Launch a campaign']").GetAttribute("data-done"));
        Assert.Contains(cut.FindAll("a"), a => a.GetAttribute("href") == "campaigns/new");
        if (left == 3)
        {
            Assert.Contains(cut.FindAll("a"), a => a.GetAttribute("href") == "recipients" && a.TextContent == "Upload a CSV");
            Assert.Contains(cut.FindAll("a"), a => a.GetAttribute("href") == "content/new");
        }
    }

    [Fact]
    public void The_checklist_is_gone_once_every_step_is_done()
    {
        var cut = Render<FirstRunChecklist>(p => p.Add(c => c.Steps, new FirstRunSteps(true, true, true, true)));

        Assert.Empty(cut.FindAll("[data-testid=first-run]"));
    }

    [Fact]
    public void Counts_of_one_take_the_singular()
    {
        Assert.Equal("1 suppressed number", Plural.Count(1, "suppressed number", "suppressed numbers"));
        Assert.Equal("0 suppressed numbers", Plural.Count(0, "suppressed number", "suppressed numbers"));
        Assert.Equal($"{1500:N0} segments", Plural.Count(1500, "segment", "segments"));
    }
}

/// <summary>The campaign controls and the suppressions count with the real services of an app on its own database.</summary>
public sealed class CampaignControlsTests : MudTestContext, IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public CampaignControlsTests(AppFactory app)
    {
        _app = app;
        _app.CreateClient().Dispose();
        Services.AddSingleton(_app.Services.GetRequiredService<OperationService>());
        Services.AddSingleton(_app.Services.GetRequiredService<SuppressionService>());
        Services.AddSingleton(_app.Services.GetRequiredService<RecipientOptions>());
        var auth = AddAuthorization();
        auth.SetAuthorized("admin@example.com");
        auth.SetRoles(Roles.Admin);
        auth.SetPolicies(AuthSetup.WritePolicy);
    }

    [Fact]
    public async Task The_cancel_dialog_confirms_with_Cancel_campaign_and_Keep_sending_changes_nothing()
    {
        var (id, key) = await ScheduledAsync("+13125550171");
        var dialogs = Render<MudDialogProvider>();
        var operation = OperationView.Of((await OperationAsync(key))!);
        var cut = Render<CampaignControls>(p => p.Add(c => c.Operation, operation).Add(c => c.OperationId, key));

        cut.FindAll("button").Single(b => b.TextContent.Trim() == "Cancel campaign").Click();

        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll(".mud-dialog button")));
        var buttons = dialogs.FindAll(".mud-dialog button").Select(b => b.TextContent.Trim()).ToList();
        Assert.Contains("Cancel campaign", buttons);
        Assert.Contains("Keep sending", buttons);
        Assert.DoesNotContain("Cancel", buttons);
        dialogs.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Keep sending").Click();
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll(".mud-dialog")));
        Assert.Equal(OperationStatus.Scheduled, (await OperationAsync(key))!.Status);

        cut.FindAll("button").Single(b => b.TextContent.Trim() == "Cancel campaign").Click();
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll(".mud-dialog button")));
        dialogs.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Cancel campaign").Click();
        await WaitAsync(async () => (await OperationAsync(key))!.Status == OperationStatus.Canceled, id);
    }

    [Fact]
    public async Task The_dashboard_offers_to_duplicate_a_campaign_in_the_wizard()
    {
        var (id, key) = await ScheduledAsync("+13125550172");

        var operation = OperationView.Of((await OperationAsync(key))!);
        var cut = Render<CampaignControls>(p => p.Add(c => c.Operation, operation).Add(c => c.OperationId, key));

        var duplicate = cut.FindAll("a").Single(a => a.TextContent.Trim() == "Duplicate");
        Assert.Equal($"campaigns/new?from={id}", duplicate.GetAttribute("href"));
    }

    [Fact]
    public async Task One_suppressed_number_is_counted_in_the_singular()
    {
        var suppressions = _app.Services.GetRequiredService<SuppressionService>();
        var before = await suppressions.CountAsync();
        if (before == 0)
        {
            await suppressions.AddAsync("+13125550173", "test", "manual");
        }
        var count = await suppressions.CountAsync();
        Render<MudPopoverProvider>();

        var cut = Render<SuppressionsPage>();

        cut.WaitForAssertion(() => Assert.Contains(count == 1 ? "1 suppressed number<" : $"{count:N0} suppressed numbers<", cut.Markup, StringComparison.Ordinal));
        Assert.DoesNotContain("1 suppressed numbers", cut.Markup, StringComparison.Ordinal);
    }

    private async Task<(string Id, long Key)> ScheduledAsync(string from)
    {
        using var api = _app.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, from, 10);
        var id = await DispatchTestKit.SendAsync(api, new
        {
            from = new { address = from, channel = "SMS" },
            to = new[] { new { address = DispatchTestKit.Number(7100) } },
            content = new { text = "Later" },
            schedule = new { sendAt = new[] { DateTimeOffset.UtcNow.AddDays(2).ToString("yyyy-MM-ddTHH:mm:ssZ") } },
            name = "Tomorrow",
        });
        Assert.True(PublicId.TryDecode(PublicId.Operation, id, out var key));
        return (id, key);
    }

    private Task<Operation?> OperationAsync(long key) => _app.Services.GetRequiredService<CampaignQueries>().OperationAsync(key);

    private static async Task WaitAsync(Func<Task<bool>> done, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < until, $"{what} did not get there in time");
            await Task.Delay(50);
        }
    }
}
