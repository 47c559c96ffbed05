using BulkCampaigns.Campaigns;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Campaigns;

public sealed class WizardRulesTests(AppFactory app) : IClassFixture<AppFactory>
{
    private CampaignLauncher Launcher => app.Services.GetRequiredService<CampaignLauncher>();

    [Fact]
    public async Task An_empty_draft_is_told_what_to_fix_at_each_step()
    {
        var problems = await Launcher.CheckAsync(new DraftData());

        Assert.Contains(problems, p => p.Step == WizardStep.Audience && p.Message.Contains("group", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Step == WizardStep.Content);
        Assert.Contains(problems, p => p.Step == WizardStep.Sender);
        Assert.Contains(problems, p => p.Step == WizardStep.Review && p.Message.Contains("name", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Step == WizardStep.Schedule);
    }

    [Fact]
    public void The_estimated_end_counts_quiet_hours_in_the_campaign_zone_and_starts_at_the_send_time()
    {
        var now = new DateTimeOffset(2026, 7, 1, 10, 0, 0, TimeSpan.Zero);
        var paris = new DraftData { TimeZoneId = "Europe/Paris", SendAtLocal = new DateTime(2026, 7, 1, 20, 0, 0) };

        // 20:00 Paris is 18:00 UTC; two hours of sending without quiet hours end at 20:00 UTC.
        Assert.Equal(new DateTimeOffset(2026, 7, 1, 20, 0, 0, TimeSpan.Zero), paris.EstimatedEnd(TimeSpan.FromHours(2), now));
        // Quiet from 21:00 Paris: one hour tonight, the other from 08:00 Paris (06:00 UTC).
        var quiet = paris with { QuietHours = true, QuietStart = new(21, 0, 0), QuietEnd = new(8, 0, 0) };
        Assert.Equal(new DateTimeOffset(2026, 7, 2, 7, 0, 0, TimeSpan.Zero), quiet.EstimatedEnd(TimeSpan.FromHours(2), now));
        // Sent now when no time is set.
        Assert.Equal(now.AddMinutes(5), new DraftData().EstimatedEnd(TimeSpan.FromMinutes(5), now));
    }

    [Fact]
    public async Task A_send_time_in_the_past_is_a_schedule_problem()
    {
        var draft = new DraftData { SendAtLocal = new DateTime(2020, 1, 1, 9, 0, 0), TimeZoneId = "Europe/Paris" };

        var problems = await Launcher.CheckAsync(draft);

        Assert.Contains(problems, p => p.Step == WizardStep.Schedule && p.Message.Contains("past", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_complete_draft_launches_an_operation_that_sends_to_the_group_once_per_address()
    {
        using var api = app.CreateApiClient();
        var sender = await DispatchTestKit.CreateSenderAsync(api, "+13125550141", 1000);
        var connection = $"Data Source={app.DatabasePath}";
        var a = await DispatchTestKit.InsertGroupAsync(connection, [(DispatchTestKit.Number(1), """{"n":"1"}"""), (DispatchTestKit.Number(2), """{"n":"2"}""")], "A");
        var b = await DispatchTestKit.InsertGroupAsync(connection, [(DispatchTestKit.Number(2), """{"n":"2"}"""), (DispatchTestKit.Number(3), """{"n":"3"}""")], "B");
        var draft = new DraftData
        {
            Name = "Launched from the wizard",
            GroupIds = [a, b],
            ContentJson = """{"text":"Number {{n}}"}""",
            SenderId = sender,
        };

        var count = await app.Services.GetRequiredService<AudienceCounter>().CountAsync(draft.GroupIds);
        var (id, problems) = await Launcher.LaunchAsync(draft, null);

        Assert.Empty(problems);
        Assert.Equal(new AudienceCount(4, 1, 0), count);
        Assert.Equal(3, count.WillReceive);
        var op = await DispatchTestKit.WaitForStatusAsync(api, id!, "COMPLETED");
        Assert.Equal(3, DispatchTestKit.Stat(op, "total"));
        Assert.Equal("Launched from the wizard", op.GetProperty("name").GetString());
    }

    [Fact]
    public void A_local_send_time_is_read_in_its_time_zone()
    {
        var draft = new DraftData { SendAtLocal = new DateTime(2027, 1, 15, 9, 30, 0), TimeZoneId = "America/New_York" };

        Assert.Equal(new DateTimeOffset(2027, 1, 15, 14, 30, 0, TimeSpan.Zero), draft.SendAtUtc());
    }

    [Fact]
    public void A_local_time_the_clocks_skip_has_no_send_time()
    {
        // 2027-03-14 02:30 does not exist in New York: clocks go from 02:00 to 03:00.
        var draft = new DraftData { SendAtLocal = new DateTime(2027, 3, 14, 2, 30, 0), TimeZoneId = "America/New_York" };

        Assert.Null(draft.SendAtUtc());
    }

    [Fact]
    public async Task An_MPS_above_the_sender_MPS_and_quiet_hours_that_start_when_they_end_are_schedule_problems()
    {
        using var api = app.CreateApiClient();
        var sender = await DispatchTestKit.CreateSenderAsync(api, "+13125550142", 50);

        var tooFast = await Launcher.CheckAsync(new DraftData { SenderId = sender, Mps = 51 });
        var fine = await Launcher.CheckAsync(new DraftData { SenderId = sender, Mps = 50, QuietHours = true });
        var emptyWindow = await Launcher.CheckAsync(new DraftData { SenderId = sender, QuietHours = true, QuietStart = TimeSpan.FromHours(9), QuietEnd = TimeSpan.FromHours(9) });

        Assert.Contains(tooFast, p => p.Step == WizardStep.Schedule && p.Message.Contains("at most 50 messages per second", StringComparison.Ordinal));
        Assert.DoesNotContain(fine, p => p.Step == WizardStep.Schedule);
        Assert.Contains(emptyWindow, p => p.Step == WizardStep.Schedule && p.Message.Contains("Quiet hours", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_estimate_takes_the_chosen_MPS()
    {
        using var api = app.CreateApiClient();
        var sender = await DispatchTestKit.CreateSenderAsync(api, "+13125550143", 100);
        var group = await DispatchTestKit.InsertGroupAsync($"Data Source={app.DatabasePath}",
            Enumerable.Range(600, 100).Select(i => (DispatchTestKit.Number(i), "{}")), "Estimate");
        var draft = new DraftData { GroupIds = [group], ContentJson = """{"text":"Short"}""", SenderId = sender };

        var atSender = await Launcher.EstimateAsync(draft);
        var atTen = await Launcher.EstimateAsync(draft with { Mps = 10 });

        Assert.Equal(100, atSender.Mps);
        Assert.Equal(TimeSpan.FromSeconds(1), atSender.Duration);
        Assert.Equal(10, atTen.Mps);
        Assert.Equal(TimeSpan.FromSeconds(10), atTen.Duration);
    }

    [Fact]
    public async Task The_draft_keeps_the_pace_and_the_launched_operation_carries_it()
    {
        using var api = app.CreateApiClient();
        var sender = await DispatchTestKit.CreateSenderAsync(api, "+13125550144", 100);
        var group = await DispatchTestKit.InsertGroupAsync($"Data Source={app.DatabasePath}", [(DispatchTestKit.Number(700), "{}")], "Paced");
        var london = TimeZoneInfo.FindSystemTimeZoneById("Europe/London");
        var draft = new DraftData
        {
            Name = "Paced",
            GroupIds = [group],
            ContentJson = """{"text":"Hi"}""",
            SenderId = sender,
            // Tomorrow, so nothing is sent while the test reads it back.
            SendAtLocal = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, london).DateTime.AddDays(1),
            TimeZoneId = "Europe/London",
            Mps = 25,
            QuietHours = true,
            QuietStart = new TimeSpan(21, 30, 0),
            QuietEnd = new TimeSpan(7, 0, 0),
        };
        var drafts = app.Services.GetRequiredService<CampaignDrafts>();

        var draftId = await drafts.SaveAsync("pace-owner", null, draft);
        var saved = (await drafts.LoadAsync("pace-owner", draftId))!;
        var (id, problems) = await Launcher.LaunchAsync(saved, saved.SendAtUtc());

        Assert.Equal(draft, saved with { GroupIds = draft.GroupIds });
        Assert.Equal(draft.GroupIds, saved.GroupIds);
        Assert.Empty(problems);
        var pace = (await DispatchTestKit.GetOperationAsync(api, id!)).GetProperty("pace");
        Assert.Equal(25, pace.GetProperty("mps").GetInt32());
        Assert.Equal("21:30", pace.GetProperty("quietHours").GetProperty("start").GetString());
        Assert.Equal("07:00", pace.GetProperty("quietHours").GetProperty("end").GetString());
        Assert.Equal("Europe/London", pace.GetProperty("quietHours").GetProperty("timeZone").GetString());
        await api.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null);
    }
}
