using System.Text.RegularExpressions;
using BulkCampaigns.Tests.Infrastructure;
using Xunit.Abstractions;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Postgres;

/// <summary>
/// The database goes away mid-campaign (the network drops, the server restarts) and comes back, the app running all
/// along: sending stops, nothing is written as sent that the provider does not have, and sending goes on by itself
/// once the database answers. The app reaches PostgreSQL through a relay the test cuts; the Simulator keeps what it
/// receives in the same database, so nothing can be sent while it is away.
/// </summary>
public sealed partial class LostDatabaseTests(ITestOutputHelper output)
{
    private const int Recipients = 6_000;

    [Fact]
    public async Task Sending_stops_while_the_database_is_away_and_goes_on_by_itself_when_it_is_back_each_recipient_once()
    {
        using var database = TestDatabase.Create(TestProvider.Postgres);
        await using var relay = CuttableRelay.To(database.ConnectionString);
        using var app = AppProcess.Start(database, settings: new Dictionary<string, string>
        {
            ["ConnectionStrings:BulkCampaigns"] = relay.ConnectionString,
            ["Logging:LogLevel:BulkCampaigns.Dispatch.DispatchJobs"] = "Information",
        });
        await app.WaitHealthyAsync();
        await CreateSenderAsync(app.Client, "+14155550177", 1500);
        var group = await InsertGroupAsync(database.ConnectionString, Enumerable.Range(0, Recipients).Select(i => (Number(i), $$"""{"n":"{{i}}"}""")));
        var operationId = await SendAsync(app.Client, new
        {
            from = new { address = "+14155550177" },
            to = new[] { new { groupId = group } },
            content = new { text = "Hello #{{n}}" },
        });
        const string Received = """SELECT COUNT(*) FROM "SimulatorMessages" """;
        while (await database.CountAsync(Received) < Recipients / 5)
        {
            Assert.False(app.Process.HasExited, $"the app stopped by itself:\n{app.Output}");
            await Task.Delay(20);
        }

        relay.Cut();
        var receivedAtCut = await database.CountAsync(Received);
        await Task.Delay(TimeSpan.FromSeconds(5));
        var receivedWhileAway = await database.CountAsync(Received) - receivedAtCut;
        Assert.False(app.Process.HasExited, $"the app stopped when the database went away:\n{app.Output}");
        Assert.True(relay.TurnedAway > 0, "the app should have tried the database while it was away");
        output.WriteLine($"at the cut: {receivedAtCut} received; {relay.TurnedAway} connections turned away in 5 s");
        relay.Mend();

        // On by itself: no restart, long before the sweeper's two minutes for ranges left behind.
        var op = await WaitForStatusAsync(app.Client, operationId, "COMPLETED", timeoutSeconds: 60);
        output.WriteLine(string.Join('\n', app.Output.Split('\n').Where(l => l.Contains("database", StringComparison.OrdinalIgnoreCase)).Take(20)));

        Assert.Equal(0, receivedWhileAway);
        Assert.True(receivedAtCut < Recipients, "the cut should land in the middle of the operation");
        AssertStatsAddUp(op);
        Assert.Equal(Recipients, Stat(op, "total"));
        Assert.Equal(0, Stat(op, "failed") + Stat(op, "queued") + Stat(op, "canceled"));
        // Each recipient once, with its own text.
        Assert.Equal(Recipients, await database.CountAsync(Received));
        Assert.Equal(Recipients, await database.CountAsync("""SELECT COUNT(DISTINCT "To") FROM "SimulatorMessages" """));
        Assert.Equal(0, await database.CountAsync("""
            SELECT COUNT(*) FROM "SimulatorMessages" s JOIN "Messages" m ON m."Id" = s."CallbackMessageId"
            WHERE s."Body" <> 'Hello #' || (m."VariablesJson"::json ->> 'n') OR s."To" <> m."Address"
            """));
        // Nothing written as sent (or further on) that the Simulator did not receive, nothing left in flight.
        Assert.Equal(0, await database.CountAsync("""
            SELECT COUNT(*) FROM "Messages" m WHERE m."Status" IN (3, 4, 5, 6)
            AND NOT EXISTS (SELECT 1 FROM "SimulatorMessages" s WHERE s."CallbackMessageId" = m."Id")
            """));
        Assert.Equal(0, await database.CountAsync("""SELECT COUNT(*) FROM "Messages" WHERE "Status" IN (1, 2)"""));
        Assert.Equal(0, await database.CountAsync("""SELECT COUNT(*) FROM "ClaimedBatches" """));
        // One clear line per batch that lost it, not a line per message or per retry; and one that it went on.
        var lost = LostLine().Count(app.Output);
        Assert.InRange(lost, 1, Recipients / 500);
        Assert.Contains("The database answers again", app.Output, StringComparison.Ordinal);
    }

    [GeneratedRegex("Lost the database while sending batch")]
    private static partial Regex LostLine();
}
