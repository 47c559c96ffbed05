using BulkCampaigns.Tests.Infrastructure;
using Xunit.Abstractions;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>
/// The product's promise on failure: kill the process at any moment of a campaign and start it again; the
/// campaign goes on by itself and every recipient gets the message once. On each provider.
/// </summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class CrashResumeTests(ITestOutputHelper output)
{
    private const int Recipients = 20_000;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Killed_with_SIGKILL_mid_operation_it_resumes_on_restart_and_every_recipient_gets_exactly_one_message(TestProvider provider)
    {
        using var database = TestDatabase.Create(provider);
        var port = AppProcess.FreePort();

        string operationId;
        long receivedAtKill;
        // One node, restarted under its name: the restart settles what its first run left in flight at once (on
        // PostgreSQL a node of another name would wait for those leases to run out, as it would for a live node's).
        var node = new Dictionary<string, string> { ["Node:Name"] = "crash-node" };
        using (var first = AppProcess.Start(database, port, node))
        {
            await first.WaitHealthyAsync();
            await CreateSenderAsync(first.Client, "+14155550199", 5000);
            var group = await InsertGroupAsync(provider == TestProvider.Sqlite ? $"Data Source={database.SqlitePath}" : database.ConnectionString,
                Enumerable.Range(0, Recipients).Select(i => (Number(i), $$"""{"n":"{{i}}"}""")));
            operationId = await SendAsync(first.Client, new
            {
                from = new { address = "+14155550199" },
                to = new[] { new { groupId = group } },
                content = new { text = "Hello #{{n}}" },
            });
            // Kill while it is sending: some received, many not.
            while ((receivedAtKill = await database.CountAsync("""SELECT COUNT(*) FROM "SimulatorMessages" """)) < Recipients / 4)
            {
                Assert.False(first.Process.HasExited, "the app stopped by itself");
                await Task.Delay(20);
            }
            await first.KillAsync();
        }
        Assert.True(receivedAtKill < Recipients, "the kill should land in the middle of the operation");
        // In flight: QUEUED inside a claimed range (ClaimedBatches), or SENDING as versions before claimed ranges wrote it.
        const string InFlight = """(m."Status" = 2 OR (m."Status" = 1 AND EXISTS (SELECT 1 FROM "ClaimedBatches" c WHERE m."Id" BETWEEN c."FromId" AND c."ToId")))""";
        var inFlight = await database.CountAsync($"""SELECT COUNT(*) FROM "Messages" m WHERE {InFlight}""");
        var receivedButNotWritten = await database.CountAsync($"""SELECT COUNT(*) FROM "SimulatorMessages" s JOIN "Messages" m ON m."Id" = s."CallbackMessageId" WHERE {InFlight}""");
        output.WriteLine($"at kill: {receivedAtKill} received, {inFlight} in flight, {receivedButNotWritten} of them received but not yet written as sent");

        using var second = AppProcess.Start(database, port, node);
        var client = second.Client;
        await second.WaitHealthyAsync();
        var op = await WaitForStatusAsync(client, operationId, "COMPLETED", timeoutSeconds: 120);
        AssertStatsAddUp(op);
        Assert.Equal(Recipients, Stat(op, "total"));
        Assert.Equal(0, Stat(op, "failed") + Stat(op, "queued") + Stat(op, "canceled"));

        Assert.Equal(Recipients, await database.CountAsync("""SELECT COUNT(*) FROM "SimulatorMessages" """));
        Assert.Equal(Recipients, await database.CountAsync("""SELECT COUNT(DISTINCT "To") FROM "SimulatorMessages" """));
        var n = provider == TestProvider.Sqlite ? """json_extract(m."VariablesJson", '$.n')""" : """(m."VariablesJson"::json ->> 'n')""";
        Assert.Equal(0, await database.CountAsync($"""
            SELECT COUNT(*) FROM "SimulatorMessages" s JOIN "Messages" m ON m."Id" = s."CallbackMessageId"
            WHERE s."Body" <> 'Hello #' || {n} OR s."To" <> m."Address"
            """));
        Assert.Equal(0, await database.CountAsync("""SELECT COUNT(*) FROM "Messages" WHERE "Status" IN (1, 2)"""));
        Assert.Equal(0, await database.CountAsync("""SELECT COUNT(*) FROM "ClaimedBatches" """));
        // Each was attempted once, those settled at the restart (received before the kill, written after) too.
        Assert.Equal(Recipients, await database.CountAsync("""SELECT COUNT(*) FROM "Messages" WHERE "Attempts" = 1"""));
        Assert.Equal(Recipients, Stat(op, "attempts"));

        // Delivery reports pending at the kill are stored, so they arrive after the restart too.
        op = await WaitForAsync(client, operationId, o => Stat(o, "delivered") == Recipients, timeoutSeconds: 120);
        AssertStatsAddUp(op);
    }
}
