using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Data;
using BulkCampaigns.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>The operation's own pace (API ext <c>pace</c>): its MPS under the sender's, and quiet hours in the recipient's local time.</summary>
[Collection(DispatchAppsCollection.Name)]
public sealed class PaceTests : IClassFixture<ExactSimulatorApp>, IDisposable
{
    private readonly ExactSimulatorApp _app;
    private readonly HttpClient _client;
    private readonly ITestOutputHelper _output;

    public PaceTests(ExactSimulatorApp app, ITestOutputHelper output)
    {
        _app = app;
        _output = output;
        _client = app.CreateApiClient();
    }

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task Recipients_inside_quiet_hours_are_not_sent_they_stay_queued_and_their_batch_comes_back_when_the_window_ends()
    {
        const string from = "+14155550401";
        await CreateSenderAsync(_client, from, 1000);
        // A window around now in Tokyo, the campaign's zone: US numbers (NANP spans many zones) are judged there.
        // A German number is judged in Berlin, 8 hours behind Tokyo, where the window is not now.
        var tokyoNow = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo"));
        var start = tokyoNow.AddHours(-1).ToString("HH:mm", CultureInfo.InvariantCulture);
        var end = tokyoNow.AddHours(2).ToString("HH:mm", CultureInfo.InvariantCulture);
        const string german = "+4915123456789";
        var to = Enumerable.Range(5000, 30).Select(i => new { address = Number(i) }).Append(new { address = german }).ToArray();

        var id = await SendAsync(_client, new
        {
            from = new { address = from },
            to,
            content = new { text = "Not at night" },
            pace = new { quietHours = new { start, end, timeZone = "Asia/Tokyo" } },
        });

        var op = await WaitForAsync(_client, id, o => Stat(o, "sent") + Stat(o, "delivered") == 1);
        // Give the jobs time to (wrongly) send more; then everything else must still wait.
        await Task.Delay(1500);
        op = await GetOperationAsync(_client, id);
        Assert.Equal("PROCESSING", op.GetProperty("status").GetString());
        Assert.Equal(30, Stat(op, "queued"));
        AssertStatsAddUp(op);
        var received = await SimulatorMessagesAsync(_client, $"&from=%2B{from[1..]}");
        Assert.Equal([german], received.Select(m => m.GetProperty("to").GetString()));
        var queued = await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages?operationId={id}&status=QUEUED&pageSize=100");
        Assert.Equal(30, queued.GetProperty("messages").GetArrayLength());

        var quiet = op.GetProperty("pace").GetProperty("quietHours");
        Assert.Equal(start, quiet.GetProperty("start").GetString());
        Assert.Equal(end, quiet.GetProperty("end").GetString());
        Assert.Equal("Asia/Tokyo", quiet.GetProperty("timeZone").GetString());
        Assert.Equal(JsonValueKind.Null, op.GetProperty("pace").GetProperty("mps").ValueKind);

        // The batch is scheduled again for when the window ends in Tokyo.
        PublicId.TryDecode(PublicId.Operation, id, out var key);
        var windowEnd = tokyoNow.AddHours(2);
        var scheduled = _app.Services.GetRequiredService<JobStorage>().GetMonitoringApi().ScheduledJobs(0, 1000)
            .Select(j => j.Value)
            .Where(j => j.Job.Method.Name == "SendBatchAsync" && (long)j.Job.Args[0] == key)
            .ToList();
        Assert.NotEmpty(scheduled);
        Assert.All(scheduled, j => Assert.InRange(new DateTimeOffset(j.EnqueueAt, TimeSpan.Zero), windowEnd.AddMinutes(-2), windowEnd.AddMinutes(1)));

        await _client.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null);
    }

    [Fact]
    public async Task After_a_restart_the_recovered_batches_find_the_quiet_recipients_again_and_schedule_themselves_for_the_window_end()
    {
        const string from = "+14155550404";
        await CreateSenderAsync(_client, from, 1000);
        var londonNow = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Europe/London"));
        var id = await SendAsync(_client, new
        {
            from = new { address = from },
            to = Enumerable.Range(5300, 10).Select(i => new { address = Number(i) }).ToArray(),
            content = new { text = "Later" },
            pace = new
            {
                quietHours = new
                {
                    start = londonNow.AddHours(-1).ToString("HH:mm", CultureInfo.InvariantCulture),
                    end = londonNow.AddHours(3).ToString("HH:mm", CultureInfo.InvariantCulture),
                    timeZone = "Europe/London",
                },
            },
        });
        PublicId.TryDecode(PublicId.Operation, id, out var key);
        await Wait.UntilAsync(() => ScheduledBatches(key) >= 1, "a batch scheduled for the window end", 30);
        var before = ScheduledBatches(key);

        // What the start-up step does after a crash: settle, then enqueue every batch again.
        await _app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<BulkCampaigns.Dispatch.DispatchRecovery>().Single()
            .StartAsync(CancellationToken.None);

        await Wait.UntilAsync(() => ScheduledBatches(key) > before, "one more batch scheduled for the window end", 30);
        var op = await GetOperationAsync(_client, id);
        Assert.Equal("PROCESSING", op.GetProperty("status").GetString());
        Assert.Equal(10, Stat(op, "queued"));
        AssertStatsAddUp(op);
        Assert.Empty(await SimulatorMessagesAsync(_client, $"&from=%2B{from[1..]}"));
        await _client.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null);
    }

    private int ScheduledBatches(long operationId) =>
        _app.Services.GetRequiredService<JobStorage>().GetMonitoringApi().ScheduledJobs(0, 1000)
            .Count(j => j.Value.Job.Method.Name == "SendBatchAsync" && (long)j.Value.Job.Args[0] == operationId);

    [Fact]
    public async Task Bad_pace_fields_are_each_listed_and_nothing_is_made()
    {
        const string from = "+14155550402";
        await CreateSenderAsync(_client, from, 20);
        var before = (await _client.GetFromJsonAsync<JsonElement>("/v1/Messages/Operations?pageSize=1000")).GetProperty("operations").GetArrayLength();

        var response = await _client.PostAsJsonAsync("/v1/Messages", new
        {
            from = new { address = from },
            to = new[] { new { address = Number(5100) } },
            content = new { text = "Hi" },
            pace = new { mps = 21, quietHours = new { start = "9pm", end = "24:00", timeZone = "Mars/Olympus_Mons" } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray()
            .ToDictionary(e => e.GetProperty("field").GetString()!, e => e.GetProperty("message").GetString()!);
        Assert.Contains("20", errors["pace.mps"], StringComparison.Ordinal);
        Assert.Contains("HH:mm", errors["pace.quietHours.start"], StringComparison.Ordinal);
        Assert.Contains("HH:mm", errors["pace.quietHours.end"], StringComparison.Ordinal);
        Assert.Contains("IANA", errors["pace.quietHours.timeZone"], StringComparison.Ordinal);
        Assert.Equal(before, (await _client.GetFromJsonAsync<JsonElement>("/v1/Messages/Operations?pageSize=1000")).GetProperty("operations").GetArrayLength());

        var zero = await _client.PostAsJsonAsync("/v1/Messages", new
        {
            from = new { address = from },
            to = new[] { new { address = Number(5100) } },
            content = new { text = "Hi" },
            pace = new { mps = "fast" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, zero.StatusCode);
        Assert.Contains("pace.mps", await zero.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_operation_MPS_below_the_sender_MPS_is_held_and_never_exceeded()
    {
        const string from = "+14155550403";
        const int mps = 20;
        await CreateSenderAsync(_client, from, 1000);

        var id = await SendAsync(_client, new
        {
            from = new { address = from },
            to = Enumerable.Range(5200, 60).Select(i => new { address = Number(i) }).ToArray(),
            content = new { text = "Slowly {{address}}" },
            pace = new { mps },
        });
        var op = await WaitForStatusAsync(_client, id, "COMPLETED");

        Assert.Equal(mps, op.GetProperty("pace").GetProperty("mps").GetInt32());
        var times = (await SimulatorMessagesAsync(_client, $"&from=%2B{from[1..]}"))
            .Select(m => m.GetProperty("receivedAt").GetDateTimeOffset()).Order().ToList();
        Assert.Equal(60, times.Count);
        // Chunks of mps/20 = 1; the sender alone allows 1000/s.
        PaceAssert.HeldAndNeverExceeded(times, mps, chunk: 1, _output);
    }
}
