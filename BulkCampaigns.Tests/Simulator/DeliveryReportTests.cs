using BulkCampaigns.Simulator;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Simulator;

/// <summary>The app with delivery reports that never come due by themselves: the test makes them due.</summary>
public sealed class SlowReportsApp : AppFactory
{
    public SlowReportsApp() => Configure(Settings);

    public static void Configure(Dictionary<string, string?> settings)
    {
        UseExactSimulator(settings);
        settings["Messaging:Simulated:DeliveryDelayMs"] = "3600000";
    }
}

public sealed class PostgresSlowReportsApp : AppFactory
{
    public PostgresSlowReportsApp() : base(TestProvider.Postgres) => SlowReportsApp.Configure(Settings);
}

/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class DeliveryReportTests(SlowReportsApp app) : DeliveryReportTests<SlowReportsApp>(app);

/// <summary>On PostgreSQL, through the PostgreSQL engine store.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class DeliveryReportTestsOnPostgres(PostgresSlowReportsApp app) : DeliveryReportTests<PostgresSlowReportsApp>(app);

public abstract class DeliveryReportTests<TApp>(TApp app) : IClassFixture<TApp>
    where TApp : AppFactory
{
    [Fact]
    public async Task Reports_go_in_order_and_wait_for_a_message_still_being_recorded_as_sent()
    {
        using var client = app.CreateApiClient();
        await CreateSenderAsync(client, "+14155550177", 1000);
        var id = await SendAsync(client, new
        {
            from = new { address = "+14155550177", channel = "SMS" },
            to = Enumerable.Range(0, 3).Select(i => new { address = Number(7000 + i) }).ToArray(),
            content = new { text = "Report order test" },
        });
        await WaitForStatusAsync(client, id, "COMPLETED");
        var messageIds = await SimulatedCallbacksAsync();
        Assert.Equal(3, messageIds.Count);

        // The second message is still being written as SENT by its job when all three reports come due.
        await app.ExecuteSqlAsync($"""UPDATE "Messages" SET "Status" = 2 WHERE "Id" = {messageIds[1]}""");
        await app.ExecuteSqlAsync("""UPDATE "SimulatorMessages" SET "ReportDueAt" = 0""");
        var reporter = app.Services.GetServices<IHostedService>().OfType<SimulatorDeliveryReporter>().Single();

        // The app's own reporter may run a round too: either way the outcome is the same.
        await reporter.ReportDueAsync(CancellationToken.None);
        Assert.Equal(new[] { 4, 2, 3 }, await StatusesAsync(messageIds));
        var inbox = await SimulatorMessagesAsync(client, "&from=%2B14155550177");
        Assert.Equal(["DELIVERED", "SENT", "SENT"], inbox.Select(m => m.GetProperty("status").GetString()!).ToArray());

        await app.ExecuteSqlAsync($"""UPDATE "Messages" SET "Status" = 3 WHERE "Id" = {messageIds[1]}""");
        await reporter.ReportDueAsync(CancellationToken.None);
        Assert.Equal(new[] { 4, 4, 4 }, await StatusesAsync(messageIds));
        Assert.Equal(0, await reporter.ReportDueAsync(CancellationToken.None));

        var op = await WaitForAsync(client, id, o => Stat(o, "delivered") == 3);
        Assert.Equal(0, Stat(op, "sent"));
        AssertStatsAddUp(op);
    }

    private async Task<List<long>> SimulatedCallbacksAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """SELECT "CallbackMessageId" FROM "SimulatorMessages" WHERE "From" = '+14155550177' ORDER BY "Id" """;
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }
        return ids;
    }

    private async Task<int[]> StatusesAsync(List<long> messageIds)
    {
        await using var connection = await OpenAsync();
        var statuses = new List<int>();
        foreach (var messageId in messageIds)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"""SELECT "Status" FROM "Messages" WHERE "Id" = {messageId}""";
            statuses.Add(Convert.ToInt32(await command.ExecuteScalarAsync()));
        }
        return statuses.ToArray();
    }

    private async Task<System.Data.Common.DbConnection> OpenAsync()
    {
        var connection = Open(app.Settings.ConnectionString(app));
        await connection.OpenAsync();
        return connection;
    }
}
