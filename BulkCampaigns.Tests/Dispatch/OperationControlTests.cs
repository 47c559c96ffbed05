using BulkCampaigns.Hosting;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Simulator;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
[Collection(DispatchAppsCollection.Name)]
public sealed class OperationControlTests(ExactSimulatorApp app, ITestOutputHelper output) : OperationControlTests<ExactSimulatorApp>(app, output);

/// <summary>On PostgreSQL, through the PostgreSQL engine store.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
[Collection(DispatchAppsCollection.Name)]
public sealed class OperationControlTestsOnPostgres(PostgresExactSimulatorApp app, ITestOutputHelper output) : OperationControlTests<PostgresExactSimulatorApp>(app, output);

public abstract class OperationControlTests<TApp> : IClassFixture<TApp>, IDisposable
    where TApp : AppFactory
{
    private readonly TApp _app;
    private readonly HttpClient _client;
    private readonly ITestOutputHelper _output;

    protected OperationControlTests(TApp app, ITestOutputHelper output)
    {
        _app = app;
        _output = output;
        _client = app.CreateApiClient();
    }

    public void Dispose()
    {
        _client.Dispose();
        GC.SuppressFinalize(this);
    }

    private static object Body(string from, int first, int count) => new
    {
        from = new { address = from },
        to = Enumerable.Range(first, count).Select(i => new { address = Number(i) }).ToArray(),
        content = new { text = "Msg {{address}}" },
    };

    [Fact]
    public async Task Pause_stops_sends_and_keeps_the_place_then_resume_finishes_with_each_recipient_once()
    {
        const string from = "+14155550301";
        await CreateSenderAsync(_client, from, 40);
        var id = await SendAsync(_client, Body(from, 1000, 120));
        await WaitForAsync(_client, id, op => Stat(op, "sent") + Stat(op, "delivered") >= 10);

        var pause = await _client.PostAsync($"/v1/Messages/Operations/{id}/Pause", null);
        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        Assert.Equal("PAUSED", (await pause.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        // In-flight sends settle; after that nothing more goes out while paused.
        var paused = await SettledAsync(id);
        Assert.Equal(120, Stat(paused, "queued") + Stat(paused, "sent") + Stat(paused, "delivered"));
        var countAtPause = (await SimulatorMessagesAsync(_client, $"&from=%2B{from[1..]}")).Count;
        await Task.Delay(1500);
        Assert.Equal(countAtPause, (await SimulatorMessagesAsync(_client, $"&from=%2B{from[1..]}")).Count);
        Assert.True(Stat(paused, "queued") > 0, "the pause should land before the end");
        Assert.Equal(HttpStatusCode.Conflict, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Pause", null)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Resume", null)).StatusCode);
        var done = await WaitForStatusAsync(_client, id, "COMPLETED");
        AssertStatsAddUp(done);
        var received = await SimulatorMessagesAsync(_client, $"&from=%2B{from[1..]}");
        Assert.Equal(120, received.Count);
        Assert.Equal(120, received.Select(m => m.GetProperty("to").GetString()).Distinct().Count());
        Assert.Equal(HttpStatusCode.Conflict, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Resume", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null)).StatusCode);
    }

    [Fact]
    public async Task Cancel_marks_the_rest_canceled_and_stops_sending()
    {
        const string from = "+14155550302";
        await CreateSenderAsync(_client, from, 40);
        var id = await SendAsync(_client, Body(from, 2000, 100));
        await WaitForAsync(_client, id, op => Stat(op, "sent") + Stat(op, "delivered") >= 5);

        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null)).StatusCode);
        var op = await WaitForAsync(_client, id, o => Stat(o, "queued") == 0);
        Assert.Equal("CANCELED", op.GetProperty("status").GetString());
        AssertStatsAddUp(op);
        Assert.True(Stat(op, "canceled") > 0);
        var sent = Stat(op, "sent") + Stat(op, "delivered");
        Assert.Equal(100, sent + Stat(op, "canceled"));
        await Task.Delay(500);
        Assert.Equal(sent, (await SimulatorMessagesAsync(_client, $"&from=%2B{from[1..]}")).Count);
    }

    [Fact]
    public async Task The_sender_MPS_is_held_and_never_exceeded()
    {
        const string from = "+14155550303";
        const int mps = 50;
        await CreateSenderAsync(_client, from, mps);
        // Two operations share the sender: the limit is the sender's, not each operation's.
        var a = await SendAsync(_client, Body(from, 3000, 100));
        var b = await SendAsync(_client, Body(from, 3100, 100));
        await WaitForStatusAsync(_client, a, "COMPLETED");
        await WaitForStatusAsync(_client, b, "COMPLETED");

        var times = (await SimulatorMessagesAsync(_client, $"&from=%2B{from[1..]}"))
            .Select(m => m.GetProperty("receivedAt").GetDateTimeOffset()).Order().ToList();
        Assert.Equal(200, times.Count);
        // Sends go out in chunks of mps/20.
        PaceAssert.HeldAndNeverExceeded(times, mps, chunk: Math.Max(1, mps / 20), _output);
    }

    [Fact]
    public async Task An_operation_that_keeps_failing_pauses_itself_with_the_reason_and_retry_sends_the_failed_again()
    {
        const string from = "+14155550304";
        await CreateSenderAsync(_client, from, 100_000);
        var configuration = _app.Services.GetRequiredService<IConfiguration>();
        var cache = _app.Services.GetRequiredService<IOptionsMonitorCache<SimulatedOptions>>();
        configuration["Messaging:Simulated:FailureRate"] = "1";
        cache.Clear();
        string id;
        try
        {
            id = await SendAsync(_client, Body(from, 4000, 1000));
            var paused = await WaitForStatusAsync(_client, id, "PAUSED");
            Assert.Contains("Paused automatically", paused.GetProperty("pauseReason").GetString());
            paused = await SettledAsync(id);
            AssertStatsAddUp(paused);
            Assert.True(Stat(paused, "failed") >= 100);
            Assert.True(Stat(paused, "queued") > 0, "it should pause before sending everything");
            var failed = await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages?operationId={id}&status=FAILED&pageSize=1");
            Assert.Equal("30008", failed.GetProperty("messages")[0].GetProperty("errorCode").GetString());
        }
        finally
        {
            configuration["Messaging:Simulated:FailureRate"] = "0";
            cache.Clear();
        }

        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Retry", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Resume", null)).StatusCode);
        var done = await WaitForStatusAsync(_client, id, "COMPLETED");
        AssertStatsAddUp(done);
        Assert.Equal(0, Stat(done, "failed"));
        var received = await SimulatorMessagesAsync(_client, $"&from=%2B{from[1..]}");
        Assert.Equal(1000, received.Count);
        Assert.Equal(1000, received.Select(m => m.GetProperty("to").GetString()).Distinct().Count());
        Assert.Equal(HttpStatusCode.Conflict, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Retry", null)).StatusCode);
    }

    /// <summary>
    /// Waits until no message of the operation is in flight (the API shows those as queued), then reads the operation:
    /// read in that order, so the figures cannot be older than the settling.
    /// </summary>
    private async Task<JsonElement> SettledAsync(string id)
    {
        BulkCampaigns.Data.PublicId.TryDecode(BulkCampaigns.Data.PublicId.Operation, id, out var key);
        var until = DateTime.UtcNow.AddSeconds(60);
        long sending;
        while ((sending = await _app.ScalarAsync($"""SELECT "Sending" FROM "Operations" WHERE "Id" = {key}""")) > 0)
        {
            Assert.True(DateTime.UtcNow < until, $"operation {id} still has {sending} messages in flight");
            await Task.Delay(50);
        }
        return await GetOperationAsync(_client, id);
    }
}
