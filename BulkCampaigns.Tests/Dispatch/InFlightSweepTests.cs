using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
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

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection(app.Settings.ConnectionString(app));
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
