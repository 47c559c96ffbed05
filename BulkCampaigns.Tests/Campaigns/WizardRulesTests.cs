using System.Text.Json;
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
        var connection = app.Database.ConnectionString;
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
        var group = await DispatchTestKit.InsertGroupAsync(app.Database.ConnectionString,
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
        var group = await DispatchTestKit.InsertGroupAsync(app.Database.ConnectionString, [(DispatchTestKit.Number(700), "{}")], "Paced");
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

    [Fact]
    public async Task A_later_send_without_a_time_is_a_schedule_problem_never_a_send_now()
    {
        var problems = await Launcher.CheckAsync(new DraftData { SendLater = true, TimeZoneId = "Europe/Paris" });

        Assert.Contains(problems, p => p.Step == WizardStep.Schedule && p.Message.Contains("Pick the date and time", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_launch_whose_start_differs_from_the_reviewed_one_is_refused_and_the_reviewed_one_is_scheduled_for_that_instant()
    {
        using var api = app.CreateApiClient();
        var sender = await DispatchTestKit.CreateSenderAsync(api, "+13125550145", 100);
        var group = await DispatchTestKit.InsertGroupAsync(app.Database.ConnectionString, [(DispatchTestKit.Number(710), "{}")], "Reviewed start");
        var chicago = TimeZoneInfo.FindSystemTimeZoneById("America/Chicago");
        var local = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, chicago).DateTime.Date.AddDays(2).AddHours(14).AddMinutes(30);
        var draft = new DraftData
        {
            Name = "Reviewed start", GroupIds = [group], ContentJson = """{"text":"Hi"}""", SenderId = sender,
            SendLater = true, SendAtLocal = local, TimeZoneId = "America/Chicago",
        };
        var at = new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, chicago), TimeSpan.Zero);

        var (later, laterProblems) = await Launcher.LaunchAsync(draft, at.AddHours(1));
        var (now, nowProblems) = await Launcher.LaunchAsync(draft, null);
        Assert.Null(later);
        Assert.Null(now);
        Assert.Contains(laterProblems, p => p.Step == WizardStep.Review && p.Message.Contains("start changed", StringComparison.Ordinal));
        Assert.Contains(nowProblems, p => p.Step == WizardStep.Review && p.Message.Contains("start changed", StringComparison.Ordinal));
        Assert.Equal(0, await app.ScalarAsync("""SELECT COUNT(*) FROM "Operations" WHERE "Name" = 'Reviewed start'"""));

        var (id, problems) = await Launcher.LaunchAsync(draft, at);
        Assert.Empty(problems);
        Assert.Equal("SCHEDULED", (await DispatchTestKit.GetOperationAsync(api, id!)).GetProperty("status").GetString());
        Assert.Equal(at.ToUnixTimeMilliseconds(), await app.ScalarAsync("""SELECT "SendAt" FROM "Operations" WHERE "Name" = 'Reviewed start'"""));
        await api.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null);
    }

    [Fact]
    public async Task A_user_keeps_several_drafts_listed_by_name_opens_one_and_deletes_one_and_sees_no_one_else_s()
    {
        var drafts = app.Services.GetRequiredService<CampaignDrafts>();
        var spring = await drafts.SaveAsync("several@example.com", null, new DraftData { Name = "Spring sale" });
        var untitled = await drafts.SaveAsync("several@example.com", null, new DraftData { GroupIds = ["grp_x"] });
        await drafts.SaveAsync("someone-else@example.com", null, new DraftData { Name = "Theirs" });
        await drafts.SaveAsync("several@example.com", spring, new DraftData { Name = "Spring sale 2" });

        var listed = await drafts.PageAsync("several@example.com", 0, 100);

        Assert.Equal(["Spring sale 2", "Untitled"], listed.Select(d => d.Name).Order());
        Assert.Equal("Spring sale 2", (await drafts.LoadAsync("several@example.com", spring))!.Name);
        Assert.Null(await drafts.LoadAsync("someone-else@example.com", spring));
        await drafts.DeleteAsync("someone-else@example.com", untitled);
        Assert.Equal(2, (await drafts.PageAsync("several@example.com", 0, 100)).Count);
        await drafts.DeleteAsync("several@example.com", untitled);
        Assert.Equal(spring, Assert.Single(await drafts.PageAsync("several@example.com", 0, 100)).Id);
    }

    [Fact]
    public async Task Duplicating_a_campaign_starts_a_draft_with_its_audience_content_sender_pace_and_schedule_mode()
    {
        using var api = app.CreateApiClient();
        var sender = await DispatchTestKit.CreateSenderAsync(api, "+13125550146", 100);
        var group = await DispatchTestKit.InsertGroupAsync(app.Database.ConnectionString, [(DispatchTestKit.Number(720), "{}")], "Duplicated");
        var original = new DraftData
        {
            Name = "Autumn", GroupIds = [group], ContentJson = """{"text":"Autumn {{n}}"}""", SenderId = sender, Mps = 20,
            QuietHours = true, QuietStart = new(22, 0, 0), QuietEnd = new(7, 30, 0), TimeZoneId = "Europe/Berlin",
            SendLater = true, SendAtLocal = DateTime.UtcNow.Date.AddDays(3).AddHours(10),
        };
        var (id, _) = await Launcher.LaunchAsync(original, original.SendAtUtc());

        var copy = (await Launcher.DraftFromOperationAsync(id!))!;

        Assert.Equal("Copy of Autumn", copy.Name);
        Assert.Equal([group], copy.GroupIds);
        Assert.Equal("Autumn {{n}}", BulkCampaigns.Content.MessageContent.FromJson(copy.ContentJson!).Text);
        Assert.Equal(sender, copy.SenderId);
        Assert.Equal((20, true, new TimeSpan(22, 0, 0), new TimeSpan(7, 30, 0), "Europe/Berlin"), (copy.Mps!.Value, copy.QuietHours, copy.QuietStart, copy.QuietEnd, copy.TimeZoneId));
        Assert.True(copy.SendLater);
        Assert.Null(copy.SendAtLocal);
        Assert.Null(await Launcher.DraftFromOperationAsync("comms_operation_nope"));
        await api.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null);
    }

    [Fact]
    public async Task A_test_send_goes_to_my_numbers_rendered_for_the_chosen_recipient_and_is_marked_test()
    {
        using var api = app.CreateApiClient();
        var sender = await DispatchTestKit.CreateSenderAsync(api, "+13125550147", 100);
        var group = await DispatchTestKit.InsertGroupAsync(app.Database.ConnectionString,
            [(DispatchTestKit.Number(730), """{"first_name":"Ana"}"""), (DispatchTestKit.Number(731), """{"first_name":"Bo"}""")], "Test sample");
        var draft = new DraftData { Name = "Winter", GroupIds = [group], ContentJson = """{"text":"Hi {{first_name}}"}""", SenderId = sender };
        var samples = await Launcher.SamplesAsync(draft);

        var (id, problems) = await Launcher.TestSendAsync(draft, ["+13125550901", " +13125550902 "], samples.Single(s => s.Variables["first_name"] == "Bo"));

        Assert.Empty(problems);
        var op = await DispatchTestKit.WaitForStatusAsync(api, id!, "COMPLETED");
        Assert.Equal("[TEST] Winter", op.GetProperty("name").GetString());
        Assert.Equal(2, DispatchTestKit.Stat(op, "total"));
        var opId = BulkCampaigns.Data.PublicId.TryDecode(BulkCampaigns.Data.PublicId.Operation, id!, out var raw) ? raw : 0;
        Assert.Equal(1, await app.ScalarAsync($"""SELECT "IsTest" FROM "Operations" WHERE "Id" = {opId}"""));
        Assert.Equal(2, await app.ScalarAsync($"""SELECT COUNT(*) FROM "Messages" WHERE "OperationId" = {opId} AND "Body" = 'Hi Bo'"""));
        var (none, noneProblems) = await Launcher.TestSendAsync(draft, [], null);
        Assert.Null(none);
        Assert.Contains("at least one of your numbers", Assert.Single(noneProblems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_estimate_prices_the_segments_at_the_channel_price_only_once_one_is_set()
    {
        using var api = app.CreateApiClient();
        var sender = await DispatchTestKit.CreateSenderAsync(api, "+13125550148", 100);
        var group = await DispatchTestKit.InsertGroupAsync(app.Database.ConnectionString,
            Enumerable.Range(740, 10).Select(i => (DispatchTestKit.Number(i), "{}")), "Priced");
        var draft = new DraftData { GroupIds = [group], ContentJson = JsonSerializer.Serialize(new { text = new string('a', 200) }), SenderId = sender };
        var prices = app.Services.GetRequiredService<ChannelPrices>();
        await prices.SetAsync("SMS", null, "USD");

        var unpriced = await Launcher.EstimateAsync(draft);
        Assert.Equal("The currency is a three-letter code, e.g. USD or EUR.", await prices.SetAsync("SMS", 0.0079m, "dollars"));
        Assert.Null(await prices.SetAsync("SMS", 0.0079m, "usd"));
        var priced = await Launcher.EstimateAsync(draft);
        await prices.SetAsync("SMS", null, "USD");

        Assert.Null(unpriced.Cost);
        Assert.Equal(20, priced.TotalSegments);
        Assert.Equal(0.158m, priced.Cost);
        Assert.Equal("USD", priced.Price!.Currency);
    }
}
