using BulkCampaigns.Components.Pages.Campaigns.Wizard;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;

namespace BulkCampaigns.Tests.Components;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class PaceStepTests : MudTestContext
{
    [Fact]
    public void The_MPS_field_starts_at_the_sender_MPS_without_quiet_hours()
    {
        var cut = Render<PaceStep>(p => p.Add(c => c.SenderMps, 100));

        Assert.Equal("100", cut.Find("[data-testid=pace-mps] input").GetAttribute("value"));
        Assert.Empty(cut.FindAll("[data-testid=quiet-start]"));
        Assert.DoesNotContain("at most", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void An_MPS_above_the_sender_MPS_is_told_in_plain_words_and_raised_so_the_step_can_refuse_it()
    {
        int? raised = null;
        var cut = Render<PaceStep>(p => p.Add(c => c.SenderMps, 100).Add(c => c.MpsChanged, (int? m) => raised = m));

        cut.Find("[data-testid=pace-mps] input").Input("150");

        Assert.Equal(150, raised);
        cut.WaitForAssertion(() => Assert.Contains("This sender sends at most 100 messages per second; choose 100 or fewer.", cut.Markup, StringComparison.Ordinal));
    }

    [Fact]
    public void An_MPS_below_the_sender_MPS_is_raised_and_the_sender_MPS_itself_means_follow_the_sender()
    {
        var raised = new List<int?>();
        var cut = Render<PaceStep>(p => p.Add(c => c.SenderMps, 100).Add(c => c.MpsChanged, (int? m) => raised.Add(m)));

        cut.Find("[data-testid=pace-mps] input").Input("40");
        cut.Find("[data-testid=pace-mps] input").Input("100");

        Assert.Equal([40, null], raised);
        Assert.DoesNotContain("at most", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void The_quiet_hours_switch_turns_them_on()
    {
        bool? raised = null;
        var cut = Render<PaceStep>(p => p.Add(c => c.SenderMps, 100).Add(c => c.QuietHoursChanged, (bool on) => raised = on));

        cut.Find("[data-testid=quiet-hours] input").Change(true);

        Assert.True(raised);
    }

    [Fact]
    public void With_quiet_hours_on_the_times_show_with_the_local_time_rule_and_new_times_are_raised()
    {
        TimeSpan? start = null, end = null;
        var cut = Render<PaceStep>(p => p
            .Add(c => c.SenderMps, 100)
            .Add(c => c.QuietHours, true)
            .Add(c => c.TimeZoneId, "Europe/London")
            .Add(c => c.QuietStartChanged, (TimeSpan t) => start = t)
            .Add(c => c.QuietEndChanged, (TimeSpan t) => end = t));

        Assert.Equal("21:00", cut.Find("[data-testid=quiet-start] input").GetAttribute("value"));
        Assert.Equal("08:00", cut.Find("[data-testid=quiet-end] input").GetAttribute("value"));
        var help = cut.Find("[data-testid=quiet-hours-help]").TextContent;
        Assert.Contains("local time", help, StringComparison.Ordinal);
        Assert.Contains("Europe/London", help, StringComparison.Ordinal);

        cut.Find("[data-testid=quiet-start] input").Input("22:30");
        cut.Find("[data-testid=quiet-end] input").Input("06:45:00");

        Assert.Equal(new TimeSpan(22, 30, 0), start);
        Assert.Equal(new TimeSpan(6, 45, 0), end);
    }

    [Fact]
    public void The_schedule_step_shows_the_time_zone_for_quiet_hours_when_sending_now()
    {
        var now = Render<ScheduleStep>(p => p.Add(c => c.TimeZoneId, "Asia/Tokyo"));
        var quiet = Render<ScheduleStep>(p => p.Add(c => c.TimeZoneId, "Asia/Tokyo").Add(c => c.ZoneNeeded, true));

        Assert.Empty(now.FindAll("[data-testid=time-zone]"));
        Assert.Single(quiet.FindAll("[data-testid=time-zone]"));
        Assert.Empty(quiet.FindAll("[data-testid=send-at]"));
    }
}
