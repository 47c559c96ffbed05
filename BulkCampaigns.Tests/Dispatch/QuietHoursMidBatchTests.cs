using System.Globalization;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>The system clock moved by <see cref="Offset"/>: a test can jump the app into quiet hours.</summary>
public sealed class ShiftedClock : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}

/// <summary>The exact simulator app on a clock the test can move.</summary>
public sealed class ShiftedClockApp : AppFactory
{
    public ShiftedClockApp() => DispatchTestKit.UseExactSimulator(Settings);

    public ShiftedClock Clock { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(Clock));
    }
}

public sealed class QuietHoursMidBatchTests(ShiftedClockApp app) : IClassFixture<ShiftedClockApp>
{
    [Fact]
    public async Task A_slow_batch_that_runs_into_quiet_hours_stops_and_keeps_the_rest_queued()
    {
        using var client = app.CreateApiClient();
        const string from = "+14155550501";
        await CreateSenderAsync(client, from, 10);
        var london = TimeZoneInfo.FindSystemTimeZoneById("Europe/London");
        var later = TimeZoneInfo.ConvertTime(app.Clock.GetUtcNow(), london).AddHours(2);
        var id = await SendAsync(client, new
        {
            from = new { address = from },
            to = Enumerable.Range(5600, 60).Select(i => new { address = Number(i) }).ToArray(),
            content = new { text = "Until bedtime" },
            pace = new
            {
                quietHours = new
                {
                    start = later.ToString("HH:mm", CultureInfo.InvariantCulture),
                    end = later.AddHours(2).ToString("HH:mm", CultureInfo.InvariantCulture),
                    timeZone = "Europe/London",
                },
            },
        });
        await WaitForAsync(client, id, o => Stat(o, "sent") + Stat(o, "delivered") >= 5);

        // Two hours and a minute later the batch (10 per second, 60 messages) is still going: now it is quiet.
        app.Clock.Offset = TimeSpan.FromMinutes(121);
        await Task.Delay(1500);
        var sentThen = (await SimulatorMessagesAsync(client, $"&from=%2B{from[1..]}")).Count;
        await Task.Delay(1500);
        var sentNow = (await SimulatorMessagesAsync(client, $"&from=%2B{from[1..]}")).Count;

        Assert.Equal(sentThen, sentNow);
        Assert.InRange(sentNow, 5, 59);
        var op = await GetOperationAsync(client, id);
        Assert.Equal("PROCESSING", op.GetProperty("status").GetString());
        Assert.Equal(60 - sentNow, Stat(op, "queued"));
        AssertStatsAddUp(op);
        await client.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null);
    }
}
