using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using BulkCampaigns.Tests.Infrastructure;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
public sealed class InFlightSweepTests(ExactSimulatorApp app) : InFlightSweepTests<ExactSimulatorApp>(app);

/// <summary>On PostgreSQL, through the PostgreSQL engine store.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class InFlightSweepTestsOnPostgres(PostgresExactSimulatorApp app) : InFlightSweepTests<PostgresExactSimulatorApp>(app);

public abstract class InFlightSweepTests<TApp>(TApp app) : IClassFixture<TApp>
    where TApp : Infrastructure.AppFactory
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Messages_left_in_flight_by_a_stopped_batch_are_settled_without_a_restart_and_none_goes_twice(bool claimedRange)
    {
        var shift = claimedRange ? 50 : 0; // each form its own recipients and sender, in the one app
        using var client = app.CreateApiClient();
        string[] addresses = [Number(8000 + shift), Number(8001 + shift), Number(8002 + shift)];
        var (id, operationId) = await app.StrandedOperationAsync(client, claimedRange ? "+14155550288" : "+14155550188", addresses, "Swept", [addresses[0]], DateTimeOffset.UtcNow.AddMinutes(-9), claimedRange);

        var jobs = app.Services.GetRequiredService<DispatchJobs>();
        Assert.Equal(0, await jobs.SettleInFlightAsync(operationId, CancellationToken.None, DateTimeOffset.UtcNow, held: _ => true));
        Assert.Equal(0, await jobs.SettleInFlightAsync(operationId, CancellationToken.None, DateTimeOffset.UtcNow.AddHours(-1)));

        Assert.Equal(3, await app.Services.GetRequiredService<InFlightSweeper>().SweepAsync(CancellationToken.None));

        var op = await WaitForStatusAsync(client, id, "COMPLETED");
        Assert.Equal(3, Stat(op, "sent") + Stat(op, "delivered"));
        AssertStatsAddUp(op);
        var received = await SimulatorMessagesAsync(client, claimedRange ? "&from=%2B14155550288" : "&from=%2B14155550188");
        Assert.Equal(addresses.Order(), received.Select(m => m.GetProperty("to").GetString()!).Order());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_delivery_report_that_comes_while_its_message_is_being_written_as_sent_is_applied_when_it_is(bool claimedRange)
    {
        var shift = claimedRange ? 50 : 0; // each form its own recipients and sender, in the one app
        using var client = app.CreateApiClient();
        var address = Number(8100 + shift);
        // The simulator's own report is far off: the early one is the only one in play.
        var (id, operationId) = await app.StrandedOperationAsync(client, claimedRange ? "+14155550289" : "+14155550189", [address], "Early", [address], DateTimeOffset.UtcNow.AddHours(2), claimedRange);
        var messageId = await app.ScalarAsync($"""SELECT "Id" FROM "Messages" WHERE "OperationId" = {operationId}""");

        // In flight, it reads as QUEUED (as a SENDING message always has) until its outcome is written.
        var inFlight = await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/v1/Messages/{PublicId.Encode(PublicId.Message, messageId)}");
        Assert.Equal("QUEUED", inFlight.GetProperty("status").GetString());

        // The carrier's word comes first: the message is still in flight, so the report is kept.
        var report = new DeliveryReport(messageId, MessageStatus.Undelivered, "30005", "Unknown destination handset");
        var applied = await app.Services.GetRequiredService<IEngineStore>().ApplyReportsAsync([report], CancellationToken.None);
        Assert.Equal(ReportResult.NotYet, applied.Results[0]);
        Assert.Equal(1, await app.ScalarAsync("""SELECT COUNT(*) FROM "EarlyReports" """));

        await app.Services.GetRequiredService<InFlightSweeper>().SweepAsync(CancellationToken.None);

        var op = await WaitForStatusAsync(client, id, "COMPLETED");
        Assert.Equal(1, Stat(op, "undelivered"));
        AssertStatsAddUp(op);
        var message = await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/v1/Messages/{PublicId.Encode(PublicId.Message, messageId)}");
        Assert.Equal("UNDELIVERED", message.GetProperty("status").GetString());
        Assert.Equal("30005", message.GetProperty("errorCode").GetString());
        Assert.Equal(0, await app.ScalarAsync("""SELECT COUNT(*) FROM "EarlyReports" """));
    }

    [Fact]
    public async Task A_cancel_while_a_range_is_in_flight_leaves_its_messages_to_the_settlement_which_sends_none_twice()
    {
        using var client = app.CreateApiClient();
        string[] addresses = [Number(8400), Number(8401), Number(8402)];
        var (id, operationId) = await app.StrandedOperationAsync(client, "+14155550290", addresses, "Canceled mid-flight", [addresses[1]], DateTimeOffset.UtcNow.AddMinutes(-9));

        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null)).StatusCode);
        // The cancel does not decide messages in flight: one of them is with the carrier already.
        Assert.Equal(3, await app.ScalarAsync($"""SELECT COUNT(*) FROM "Messages" WHERE "OperationId" = {operationId} AND "Status" = 1"""));

        Assert.Equal(3, await app.Services.GetRequiredService<InFlightSweeper>().SweepAsync(CancellationToken.None));

        var op = await WaitForAsync(client, id, o => Stat(o, "queued") == 0);
        Assert.Equal("CANCELED", op.GetProperty("status").GetString());
        AssertStatsAddUp(op);
        Assert.Equal(1, Stat(op, "sent") + Stat(op, "delivered"));
        Assert.Equal(2, Stat(op, "canceled"));
        Assert.Equal(0, await app.ScalarAsync($"""SELECT COUNT(*) FROM "ClaimedBatches" WHERE "OperationId" = {operationId}"""));
        var received = await SimulatorMessagesAsync(client, "&from=%2B14155550290");
        Assert.Equal([addresses[1]], received.Select(m => m.GetProperty("to").GetString()!));
    }

    [Fact]
    public async Task A_running_campaign_whose_batch_jobs_were_lost_is_sent_by_the_stall_rescue_each_message_once()
    {
        using var client = app.CreateApiClient();
        string[] addresses = [Number(8500), Number(8501), Number(8502), Number(8503)];
        // Running, its messages QUEUED, nothing in flight, and no job to send them: what a lost batch job leaves.
        var (id, operationId) = await app.StrandedOperationAsync(client, "+14155550291", addresses, "Stalled", [], DateTimeOffset.UtcNow.AddMinutes(-9), claimedRange: true);
        var movedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await app.ExecuteSqlAsync($"""UPDATE "Operations" SET "Sending" = 0, "Queued" = 4, "UpdatedAt" = {movedAt} WHERE "Id" = {operationId}; DELETE FROM "ClaimedBatches" WHERE "OperationId" = {operationId};""");
        var rescue = app.Services.GetRequiredService<StallRescue>();

        // Its counts moved a moment ago: a slow campaign, not a stalled one.
        Assert.Equal(0, await rescue.RescueAsync(CancellationToken.None));
        Assert.Equal("PROCESSING", (await GetOperationAsync(client, id)).GetProperty("status").GetString());

        // Nothing moved for longer than Dispatch:StalledSeconds: its batches are queued again.
        var stalledAt = DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeMilliseconds();
        await app.ExecuteSqlAsync($"""UPDATE "Operations" SET "UpdatedAt" = {stalledAt} WHERE "Id" = {operationId}""");
        Assert.Equal(1, await rescue.RescueAsync(CancellationToken.None));

        var op = await WaitForStatusAsync(client, id, "COMPLETED");
        Assert.Equal(4, Stat(op, "sent") + Stat(op, "delivered"));
        AssertStatsAddUp(op);
        var received = await SimulatorMessagesAsync(client, "&from=%2B14155550291");
        Assert.Equal(addresses.Order(), received.Select(m => m.GetProperty("to").GetString()!).Order());
    }

    [Fact]
    public async Task A_paused_campaign_or_one_inside_its_quiet_hours_is_not_taken_for_stalled()
    {
        using var client = app.CreateApiClient();
        string[] addresses = [Number(8600), Number(8601)];
        var (_, operationId) = await app.StrandedOperationAsync(client, "+14155550292", addresses, "Held on purpose", [], DateTimeOffset.UtcNow.AddMinutes(-9), claimedRange: true);
        var stalledAt = DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeMilliseconds();
        // Quiet from half an hour ago to half an hour ahead, in the campaign's own zone.
        var now = TimeOnly.FromDateTime(DateTime.UtcNow);
        var (start, end) = (now.AddMinutes(-30).ToString("HH:mm:ss"), now.AddMinutes(30).ToString("HH:mm:ss"));
        await app.ExecuteSqlAsync($"""
            UPDATE "Operations" SET "Sending" = 0, "Queued" = 2, "UpdatedAt" = {stalledAt},
                "QuietStart" = '{start}', "QuietEnd" = '{end}', "QuietTimeZone" = 'Etc/UTC' WHERE "Id" = {operationId};
            DELETE FROM "ClaimedBatches" WHERE "OperationId" = {operationId};
            """);
        var rescue = app.Services.GetRequiredService<StallRescue>();
        Assert.Equal(0, await rescue.RescueAsync(CancellationToken.None));

        await app.ExecuteSqlAsync($"""UPDATE "Operations" SET "Status" = {(int)OperationStatus.Paused}, "QuietStart" = NULL, "QuietEnd" = NULL WHERE "Id" = {operationId}""");
        Assert.Equal(0, await rescue.RescueAsync(CancellationToken.None));
        Assert.Equal(2, await app.ScalarAsync($"""SELECT COUNT(*) FROM "Messages" WHERE "OperationId" = {operationId} AND "Status" = 1"""));
    }
}
