using System.Text.Json;
using BulkCampaigns.Tests.Infrastructure;
using Xunit.Abstractions;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>Test-then-winner across a restart: the wait is stored, so a new process takes the decision and sends the rest.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class AbWinnerRestartTests(ITestOutputHelper output)
{
    private const int Recipients = 300;

    private static readonly Dictionary<string, string> ExactSimulator = new()
    {
        ["Messaging:Simulated:LatencyMs"] = "0",
        ["Messaging:Simulated:FailureRate"] = "0",
        ["Messaging:Simulated:UndeliveredRate"] = "0",
        ["Messaging:Simulated:DeliveryDelayMs"] = "200",
        ["Dispatch:BatchSize"] = "100",
    };

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Killed_during_the_wait_the_restarted_app_picks_the_winner_and_sends_it_alone_to_the_rest_each_recipient_once(TestProvider provider)
    {
        using var database = TestDatabase.Create(provider);
        var port = AppProcess.FreePort();
        const string from = "+14155550701";
        string id;
        long tested;
        using (var first = AppProcess.Start(database, port, ExactSimulator))
        {
            await first.WaitHealthyAsync();
            await CreateSenderAsync(first.Client, from, 1000);
            id = await SendAsync(first.Client, new
            {
                from = new { address = from },
                to = Enumerable.Range(70_000, Recipients).Select(i => new { address = Number(i) }).ToArray(),
                content = AbContentCases.Variants(50, 50, new { share = 20, decideAfter = "PT12S", metric = "delivered" }),
            });
            var op = await WaitForAsync(first.Client, id, o => o.GetProperty("status").GetString() == "WAITING_FOR_WINNER"
                && o.GetProperty("variants").EnumerateArray().Sum(v => v.GetProperty("delivered").GetInt64()) == o.GetProperty("variants").EnumerateArray().Sum(v => v.GetProperty("total").GetInt64()));
            tested = op.GetProperty("variants").EnumerateArray().Sum(v => v.GetProperty("total").GetInt64());
            Assert.Equal(Recipients / 5, tested);
            Assert.Equal(Recipients - tested, Stat(op, "scheduled"));
            Assert.Equal(tested, await database.CountAsync("""SELECT COUNT(*) FROM "SimulatorMessages" """));

            // The carrier reports A's test messages undelivered (as its delivery reports would), so B has the better rate.
            await using (var connection = Open(database.Settings["ConnectionStrings:BulkCampaigns"]))
            {
                await connection.OpenAsync();
                await using var tx = await connection.BeginTransactionAsync();
                await using var mark = connection.CreateCommand();
                mark.Transaction = tx;
                mark.CommandText = $"""UPDATE "Messages" SET "Status" = 6 WHERE "OperationId" = {Key(id)} AND "Variant" = 0 AND "Status" = 4""";
                var undelivered = await mark.ExecuteNonQueryAsync();
                await using var count = connection.CreateCommand();
                count.Transaction = tx;
                count.CommandText = $"""UPDATE "Operations" SET "Delivered" = "Delivered" - {undelivered}, "Undelivered" = "Undelivered" + {undelivered} WHERE "Id" = {Key(id)}""";
                await count.ExecuteNonQueryAsync();
                await tx.CommitAsync();
                Assert.True(undelivered > 0);
            }
            await first.KillAsync();
        }
        output.WriteLine($"killed during the wait at {DateTimeOffset.UtcNow:O}; {tested} tested");

        using var second = AppProcess.Start(database, port, ExactSimulator, logLevel: "Information");
        await second.WaitHealthyAsync();
        output.WriteLine($"restarted at {DateTimeOffset.UtcNow:O}");
        JsonElement done;
        try
        {
            done = await WaitForAsync(second.Client, id, o => o.GetProperty("status").GetString() == "COMPLETED" && Stat(o, "queued") == 0, timeoutSeconds: 120);
        }
        catch
        {
            output.WriteLine(second.Output); // what the restarted app did about the decision
            throw;
        }
        AssertStatsAddUp(done);
        var winner = done.GetProperty("winner");
        Assert.Equal("B", winner.GetProperty("name").GetString());
        Assert.Equal(0, winner.GetProperty("rates").GetProperty("A").GetDouble());
        Assert.Equal(1, winner.GetProperty("rates").GetProperty("B").GetDouble());
        Assert.Equal(0, Stat(done, "scheduled"));

        // Every recipient once; the rest all got B (its text), the test's recipients kept theirs.
        Assert.Equal(Recipients, await database.CountAsync("""SELECT COUNT(*) FROM "SimulatorMessages" """));
        Assert.Equal(Recipients, await database.CountAsync("""SELECT COUNT(DISTINCT "To") FROM "SimulatorMessages" """));
        Assert.Equal(Recipients - tested + (tested / 2), await database.CountAsync("""SELECT COUNT(*) FROM "SimulatorMessages" WHERE "Body" LIKE 'B hi %'"""));
        Assert.Equal(tested / 2, await database.CountAsync("""SELECT COUNT(*) FROM "SimulatorMessages" WHERE "Body" LIKE 'A hello %'"""));
        Assert.Equal(Recipients - tested + (tested / 2), await database.CountAsync($"""SELECT COUNT(*) FROM "Messages" WHERE "OperationId" = {Key(id)} AND "Variant" = 1"""));
        var variants = done.GetProperty("variants").EnumerateArray().ToList();
        Assert.Equal(Recipients - tested + (tested / 2), variants[1].GetProperty("total").GetInt64());
        Assert.Equal(JsonValueKind.Number, variants[1].GetProperty("sent").ValueKind);
    }

    private static long Key(string operationId) => BulkCampaigns.Data.PublicId.TryDecode(BulkCampaigns.Data.PublicId.Operation, operationId, out var id) ? id : throw new ArgumentException(operationId);
}
