using BulkCampaigns.Campaigns;
using BulkCampaigns.Components.Pages.Campaigns.Wizard;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;

namespace BulkCampaigns.Tests.Components;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class ScheduleStepTests : MudTestContext
{
    [Fact]
    public void A_send_time_the_browser_hands_over_with_seconds_is_kept_not_refused()
    {
        var raised = new List<ScheduleChoice>();
        var cut = Render<ScheduleStep>(p => p
            .Add(c => c.SendLater, true).Add(c => c.SendAtLocal, new DateTime(2027, 1, 1, 9, 0, 0)).Add(c => c.TimeZoneId, "America/Chicago")
            .Add(c => c.Changed, (ScheduleChoice v) => raised.Add(v)));

        cut.Find("[data-testid=send-at] input").Change("2027-06-15T14:30:00");

        Assert.Equal(new ScheduleChoice(true, new DateTime(2027, 6, 15, 14, 30, 0), "America/Chicago"), Assert.Single(raised));
        Assert.DoesNotContain("Not a valid", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void An_emptied_send_time_stays_a_later_send_without_a_time_never_a_send_now()
    {
        var raised = new List<ScheduleChoice>();
        var cut = Render<ScheduleStep>(p => p
            .Add(c => c.SendLater, true).Add(c => c.SendAtLocal, new DateTime(2027, 1, 1, 9, 0, 0)).Add(c => c.TimeZoneId, "Europe/Paris")
            .Add(c => c.Changed, (ScheduleChoice v) => raised.Add(v)));

        cut.Find("[data-testid=send-at] input").Change("");

        Assert.Equal(new ScheduleChoice(true, null, "Europe/Paris"), Assert.Single(raised));
        cut.WaitForAssertion(() => Assert.Contains("Pick the date and time to send.", cut.Markup, StringComparison.Ordinal));
    }
}
