using BulkCampaigns.Campaigns;
using BulkCampaigns.Components.Pages.Campaigns;
using BulkCampaigns.Components.Pages.Campaigns.Wizard;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;

namespace BulkCampaigns.Tests.Components;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class CampaignComponentsTests : MudTestContext
{
    [Fact]
    public void A_step_shows_only_its_own_problems()
    {
        IReadOnlyList<StepProblem> problems = [new(WizardStep.Audience, "Choose at least one group to send to."), new(WizardStep.Sender, "Choose the sender.")];

        var cut = Render<StepProblems>(p => p.Add(c => c.Problems, problems).Add(c => c.Step, WizardStep.Sender));

        Assert.Contains("Choose the sender.", cut.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("group", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void Choosing_a_later_send_time_proposes_one_an_hour_ahead_in_the_chosen_zone()
    {
        ScheduleChoice? raised = null;
        var cut = Render<ScheduleStep>(p => p
            .Add(c => c.TimeZoneId, "Asia/Tokyo")
            .Add(c => c.Changed, (ScheduleChoice v) => raised = v));

        cut.FindAll("input[type=radio]")[1].Click();

        Assert.NotNull(raised);
        Assert.True(raised.SendLater);
        Assert.Equal("Asia/Tokyo", raised.TimeZoneId);
        var tokyoNow = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo")).DateTime;
        Assert.InRange(raised.SendAtLocal!.Value, tokyoNow.AddMinutes(55), tokyoNow.AddMinutes(65));
    }

    [Fact]
    public void The_status_tiles_show_every_bucket()
    {
        var stats = new OperationStats(Total: 100, Recipients: 100, Attempts: 90, Scheduled: 0, Queued: 10, Sent: 20, Delivered: 50, Read: 0,
            Undelivered: 5, Unaddressable: 1, Failed: 4, Canceled: 0, Suppressed: 10);

        var cut = Render<StatusCounts>(p => p.Add(c => c.Stats, stats));

        Assert.Equal("50", cut.Find("[data-status=Delivered] h6").TextContent);
        Assert.Equal("10", cut.Find("[data-status=Suppressed] h6").TextContent);
        Assert.Equal(10, cut.FindAll("[data-status]").Count);
        Assert.Equal("20", cut.Find("[data-testid=count-sent]").TextContent);
        Assert.Equal(90, CampaignFigures.Done(stats));
        Assert.Equal(90.0, CampaignFigures.Percent(stats));
    }
}
