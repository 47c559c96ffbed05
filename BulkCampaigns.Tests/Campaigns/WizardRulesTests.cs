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
        var (id, problems) = await Launcher.LaunchAsync(draft);

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
}
