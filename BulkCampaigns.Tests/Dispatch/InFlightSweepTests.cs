using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

[Collection(DispatchAppsCollection.Name)]
public sealed class InFlightSweepTests(ExactSimulatorApp app) : IClassFixture<ExactSimulatorApp>
{
    [Fact]
    public async Task Messages_left_in_flight_by_a_stopped_batch_are_settled_without_a_restart_and_none_goes_twice()
    {
        using var client = app.CreateApiClient();
        await CreateSenderAsync(client, "+14155550188", 1000);
        string[] addresses = [Number(8000), Number(8001), Number(8002)];
        // Scheduled far ahead so no job touches it; the test then makes it look like a batch died mid-way.
        var id = await SendAsync(client, new
        {
            from = new { address = "+14155550188" },
            to = addresses.Select(a => new { address = a }).ToArray(),
            content = new { text = "Swept" },
            schedule = new { sendAt = new[] { DateTimeOffset.UtcNow.AddHours(1).ToString("O") } },
        });
        Assert.True(PublicId.TryDecode(PublicId.Operation, id, out var operationId));
        var claimedAt = DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeMilliseconds();
        await ExecuteAsync($"""
            UPDATE Operations SET Status = 1, Scheduled = 0, Sending = 3, StartedAt = {claimedAt} WHERE Id = {operationId};
            UPDATE Messages SET Status = 2, ClaimedAt = {claimedAt}, UpdatedAt = {claimedAt} WHERE OperationId = {operationId};
            INSERT INTO SimulatorMessages ("From", "To", Body, MediaJson, ReceivedAt, CallbackMessageId, WillDeliver, ReportDueAt)
            SELECT '+14155550188', Address, 'Swept', '[]', {claimedAt + 500}, Id, 1, {claimedAt + 1000} FROM Messages
            WHERE OperationId = {operationId} AND Address = '{addresses[0]}';
            """);

        var jobs = app.Services.GetRequiredService<DispatchJobs>();
        Assert.Equal(0, await jobs.SettleInFlightAsync(operationId, CancellationToken.None, DateTimeOffset.UtcNow, held: _ => true));
        Assert.Equal(0, await jobs.SettleInFlightAsync(operationId, CancellationToken.None, DateTimeOffset.UtcNow.AddHours(-1)));

        Assert.Equal(3, await app.Services.GetRequiredService<InFlightSweeper>().SweepAsync(CancellationToken.None));

        var op = await WaitForStatusAsync(client, id, "COMPLETED");
        Assert.Equal(3, Stat(op, "sent") + Stat(op, "delivered"));
        AssertStatsAddUp(op);
        var received = await SimulatorMessagesAsync(client, "&from=%2B14155550188");
        Assert.Equal(addresses.Order(), received.Select(m => m.GetProperty("to").GetString()!).Order());
    }

    [Fact]
    public async Task A_delivery_report_that_comes_while_its_message_is_being_written_as_sent_is_applied_when_it_is()
    {
        using var client = app.CreateApiClient();
        await CreateSenderAsync(client, "+14155550189", 1000);
        var address = Number(8100);
        var id = await SendAsync(client, new
        {
            from = new { address = "+14155550189" },
            to = new[] { new { address } },
            content = new { text = "Early" },
            schedule = new { sendAt = new[] { DateTimeOffset.UtcNow.AddHours(1).ToString("O") } },
        });
        Assert.True(PublicId.TryDecode(PublicId.Operation, id, out var operationId));
        var claimedAt = DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeMilliseconds();
        // Handed to the provider, not yet written as SENT; the simulator's own report is far off.
        await ExecuteAsync($"""
            UPDATE Operations SET Status = 1, Scheduled = 0, Sending = 1, StartedAt = {claimedAt} WHERE Id = {operationId};
            UPDATE Messages SET Status = 2, ClaimedAt = {claimedAt}, UpdatedAt = {claimedAt} WHERE OperationId = {operationId};
            INSERT INTO SimulatorMessages ("From", "To", Body, MediaJson, ReceivedAt, CallbackMessageId, WillDeliver, ReportDueAt)
            SELECT '+14155550189', Address, 'Early', '[]', {claimedAt + 500}, Id, 1, {DateTimeOffset.UtcNow.AddHours(2).ToUnixTimeMilliseconds()} FROM Messages WHERE OperationId = {operationId};
            """);
        var messageId = await ScalarAsync($"SELECT Id FROM Messages WHERE OperationId = {operationId}");

        // The carrier's word comes first: the message is still SENDING, so the report is kept.
        var reports = app.Services.GetRequiredService<DeliveryReports>();
        var report = new DeliveryReport(messageId, MessageStatus.Undelivered, "30005", "Unknown destination handset");
        using (var writer = await app.Services.GetRequiredService<WriteGate>().EnterAsync())
        {
            await using var tx = writer.Connection.BeginTransaction();
            var (results, _) = await reports.ApplyAsync(writer.Connection, tx, [report]);
            Assert.Equal(ReportResult.NotYet, results[0]);
            await reports.KeepEarlyAsync(writer.Connection, tx, report);
            await tx.CommitAsync();
        }

        await app.Services.GetRequiredService<InFlightSweeper>().SweepAsync(CancellationToken.None);

        var op = await WaitForStatusAsync(client, id, "COMPLETED");
        Assert.Equal(1, Stat(op, "undelivered"));
        AssertStatsAddUp(op);
        var message = await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/v1/Messages/{PublicId.Encode(PublicId.Message, messageId)}");
        Assert.Equal("UNDELIVERED", message.GetProperty("status").GetString());
        Assert.Equal("30005", message.GetProperty("errorCode").GetString());
        Assert.Equal(0, await ScalarAsync("SELECT COUNT(*) FROM EarlyReports"));
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new SqliteConnection(app.Settings.ConnectionString(app));
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection(app.Settings.ConnectionString(app));
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
