using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using BulkCampaigns.Tests.Infrastructure;
using BulkCampaigns.Tests.Recipients;
using Xunit.Abstractions;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Postgres;

/// <summary>
/// Two app processes on one PostgreSQL database (jobs in it too), as a user who outgrew one machine runs them: one
/// operation is sent by both, a node killed mid-way is taken over by the other, a node restarted sends nothing twice,
/// and an import uploaded on one node is read where its file is. The limits below only stop a hung test; what is
/// asserted is counts, never timings.
/// </summary>
public sealed partial class SeveralNodesTests(ITestOutputHelper output)
{
    /// <summary>Eight batches: more than one node's four workers, so both nodes take some; at 300 a second a node is killed mid-way.</summary>
    private const int Recipients = 8_000;

    [Fact]
    public async Task One_operation_is_sent_by_both_nodes_and_each_recipient_gets_one_message()
    {
        using var database = TestDatabase.Create(TestProvider.Postgres);
        using var a = await StartNodeAsync(database, "node-a");
        using var b = await StartNodeAsync(database, "node-b");
        var (id, from) = await SendToManyAsync(database, a.Client, "+14155550701", mps: 1000);

        var op = await WaitForStatusAsync(a.Client, id, "COMPLETED", timeoutSeconds: 600);

        AssertStatsAddUp(op);
        Assert.Equal(Recipients, Stat(op, "sent") + Stat(op, "delivered"));
        await AssertEachRecipientOnceAsync(database, from);
        var (byA, byB) = (SentBy(a), SentBy(b));
        output.WriteLine($"node-a sent {byA}, node-b sent {byB}");
        Assert.True(byA > 0 && byB > 0, $"both nodes send: node-a {byA}, node-b {byB}");
        // A batch that stopped for its lease (a stalled machine) hands the rest to a later batch: counted twice in the
        // lines, sent once (above).
        Assert.True(byA + byB >= Recipients, $"the batches handled {byA + byB}");

        // Both list each other, and nothing is left claimed.
        var nodes = await a.Client.GetFromJsonAsync<JsonElement>("/v1/Nodes");
        Assert.Equal(["node-a", "node-b"], nodes.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("name").GetString()!));
        Assert.Equal(0, await database.CountAsync("""SELECT COUNT(*) FROM "ClaimedBatches" """));
    }

    [Fact]
    public async Task A_node_killed_mid_operation_is_taken_over_by_the_other_which_finishes_it_sending_none_twice()
    {
        using var database = TestDatabase.Create(TestProvider.Postgres);
        using var a = await StartNodeAsync(database, "node-a");
        using var b = await StartNodeAsync(database, "node-b");
        var (id, from) = await SendToManyAsync(database, a.Client, "+14155550702", mps: 300);

        await WaitForSentAsync(database, from, Recipients / 5);
        await b.KillAsync();
        var killed = Stopwatch.StartNew();
        var orphaned = await database.CountAsync("""
            SELECT COUNT(*) FROM "ClaimedBatches" c JOIN "Nodes" n ON n."Id" = c."NodeId" WHERE n."Name" = 'node-b'
            """);
        Assert.True(orphaned > 0, "node-b held batches in flight when it was killed");

        // node-a settles node-b's claims once their leases run out (10 s here), then sends what is left by itself.
        await WaitForAsync(database, """
            SELECT COUNT(*) FROM "ClaimedBatches" c JOIN "Nodes" n ON n."Id" = c."NodeId" WHERE n."Name" = 'node-b'
            """, 0, timeoutSeconds: 300);
        output.WriteLine($"node-b's {orphaned} claims were taken over {killed.Elapsed.TotalSeconds:F0} s after the kill");
        var op = await WaitForStatusAsync(a.Client, id, "COMPLETED", timeoutSeconds: 600);
        output.WriteLine($"completed {killed.Elapsed.TotalSeconds:F0} s after the kill");

        AssertStatsAddUp(op);
        Assert.Equal(Recipients, Stat(op, "sent") + Stat(op, "delivered"));
        await AssertEachRecipientOnceAsync(database, from);
    }

    [Fact]
    public async Task A_node_restarted_while_the_other_sends_sends_nothing_twice_and_leaves_the_others_batches_alone()
    {
        using var database = TestDatabase.Create(TestProvider.Postgres);
        using var a = await StartNodeAsync(database, "node-a");
        var b = await StartNodeAsync(database, "node-b");
        try
        {
            var (id, from) = await SendToManyAsync(database, a.Client, "+14155550703", mps: 300);

            await WaitForSentAsync(database, from, Recipients / 5);
            await b.KillAsync();
            b.Dispose();
            // Started again at once, under its name: its earlier run's claims are its own to settle now; node-a's
            // claims, live and renewed, are not touched.
            b = await StartNodeAsync(database, "node-b");

            var op = await WaitForStatusAsync(a.Client, id, "COMPLETED", timeoutSeconds: 600);
            AssertStatsAddUp(op);
            Assert.Equal(Recipients, Stat(op, "sent") + Stat(op, "delivered"));
            await AssertEachRecipientOnceAsync(database, from);
            Assert.True(SentBy(a) > 0, "node-a went on sending");
        }
        finally
        {
            b.Dispose();
        }
    }

    [Fact]
    public async Task Imports_uploaded_on_one_node_are_read_on_that_node_even_when_the_other_has_its_own_disk()
    {
        using var database = TestDatabase.Create(TestProvider.Postgres);
        using var a = await StartNodeAsync(database, "node-a");
        using var b = await StartNodeAsync(database, "node-b");
        var csv = "phone,First Name\n" + string.Join('\n', Enumerable.Range(0, 50).Select(i => $"{Number(30_000 + i)},Ann {i}")) + "\n";

        // Several uploads on each node: each node's data folder is its own, so a job run on the other node would not
        // find the file.
        var uploads = new List<(AppProcess Node, Uri Location)>();
        foreach (var node in new[] { a, b, a, b, a, b, a, b })
        {
            var group = await node.Client.CreateGroupAsync($"Upload {uploads.Count}");
            var response = await node.Client.PostCsvAsync(group, csv);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            uploads.Add((node, response.Headers.Location!));
        }
        foreach (var (node, location) in uploads)
        {
            var import = await node.Client.WaitForImportAsync(location);
            Assert.True(import.GetProperty("status").GetString() == "COMPLETED", import.ToString());
            Assert.Equal(50, import.GetProperty("imported").GetInt32());
        }
    }

    [Fact]
    public async Task A_node_with_no_workers_imports_its_own_uploads_and_leaves_every_batch_to_the_other_node()
    {
        using var database = TestDatabase.Create(TestProvider.Postgres);
        using var web = await StartNodeAsync(database, "node-web", workers: 0);
        using var worker = await StartNodeAsync(database, "node-worker");
        const int people = 2_000; // four batches of 500
        var csv = "phone,First Name\n" + string.Join('\n', Enumerable.Range(0, people).Select(i => $"{Number(40_000 + i)},Ann {i}")) + "\n";

        // The file is in node-web's own data folder: only node-web can import it.
        var group = await web.Client.CreateGroupAsync("Uploaded on the web node");
        var response = await web.Client.PostCsvAsync(group, csv);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var import = await web.Client.WaitForImportAsync(response.Headers.Location!);
        Assert.True(import.GetProperty("status").GetString() == "COMPLETED", import.ToString());
        Assert.Equal(people, import.GetProperty("imported").GetInt32());

        const string from = "+14155550704";
        await CreateSenderAsync(web.Client, from, mps: 1000);
        var id = await SendAsync(web.Client, new { from = new { address = from }, to = new[] { new { groupId = group } }, content = new { text = "Hello {{ first_name }}" } });
        var op = await WaitForStatusAsync(web.Client, id, "COMPLETED", timeoutSeconds: 300);

        AssertStatsAddUp(op);
        Assert.Equal(people, Stat(op, "sent") + Stat(op, "delivered"));
        Assert.Equal(people, await database.CountAsync($"""SELECT COUNT(*) FROM "SimulatorMessages" WHERE "From" = '{from}'"""));
        Assert.Equal(people, await database.CountAsync($"""SELECT COUNT(DISTINCT "To") FROM "SimulatorMessages" WHERE "From" = '{from}'"""));
        var (byWeb, byWorker) = (SentBy(web), SentBy(worker));
        output.WriteLine($"node-web's batches handled {byWeb}, node-worker's {byWorker}");
        Assert.Equal(0, byWeb);
        Assert.True(byWorker >= people, $"node-worker's batches handled {byWorker}");
    }

    private static async Task<AppProcess> StartNodeAsync(TestDatabase database, string name, int workers = 4)
    {
        var app = AppProcess.Start(database, settings: new Dictionary<string, string>
        {
            ["Jobs:Storage"] = "Postgres",
            ["Node:Name"] = name,
            ["Database:DataFolder"] = Path.Combine(database.Folder, name),
            ["Jobs:WorkerCount"] = workers.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // A lease of 10 s (30 by default) renewed every 2 s, claims swept once 10 s old (30) every 5 s (15): the
            // same takeover, half a minute sooner. A node's sends stop 6 s after its last confirmed renewal, before
            // another may take over.
            ["Node:LeaseSeconds"] = "10",
            ["Node:HeartbeatSeconds"] = "2",
            ["Dispatch:InFlightStaleSeconds"] = "10",
            ["Dispatch:InFlightSweepSeconds"] = "5",
            // Each batch's line says how many messages it handled: how the test tells which node sent what.
            ["Logging:LogLevel:BulkCampaigns.Dispatch.DispatchJobs"] = "Debug",
        });
        try
        {
            await app.WaitHealthyAsync(timeoutSeconds: 180);
        }
        catch
        {
            app.Dispose();
            throw;
        }
        return app;
    }

    /// <summary>An operation to a group of <see cref="Recipients"/> made through <paramref name="client"/>, on a new sender of <paramref name="mps"/>.</summary>
    private static async Task<(string Id, string From)> SendToManyAsync(TestDatabase database, HttpClient client, string from, int mps)
    {
        await CreateSenderAsync(client, from, mps);
        var group = await InsertGroupAsync(database.ConnectionString, Enumerable.Range(0, Recipients).Select(i => (Number(i), "{}")), "Eight thousand");
        var id = await SendAsync(client, new { from = new { address = from }, to = new[] { new { groupId = group } }, content = new { text = "Hello from several nodes" } });
        return (id, from);
    }

    private static async Task WaitForSentAsync(TestDatabase database, string from, long atLeast) =>
        await WaitForAsync(database, $"""SELECT COUNT(*) FROM "SimulatorMessages" WHERE "From" = '{from}'""", atLeast, timeoutSeconds: 300, orMore: true);

    private static async Task WaitForAsync(TestDatabase database, string sql, long expected, int timeoutSeconds, bool orMore = false)
    {
        var until = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var value = await database.CountAsync(sql);
            if (value == expected || (orMore && value > expected))
            {
                return;
            }
            Assert.True(DateTime.UtcNow < until, $"still {value}, waiting for {expected}: {sql}");
            await Task.Delay(200);
        }
    }

    private static async Task AssertEachRecipientOnceAsync(TestDatabase database, string from)
    {
        Assert.Equal(Recipients, await database.CountAsync($"""SELECT COUNT(*) FROM "SimulatorMessages" WHERE "From" = '{from}'"""));
        Assert.Equal(Recipients, await database.CountAsync($"""SELECT COUNT(DISTINCT "To") FROM "SimulatorMessages" WHERE "From" = '{from}'"""));
    }

    /// <summary>Messages the node's batches handled, from their debug lines.</summary>
    private static long SentBy(AppProcess node) =>
        BatchLine().Matches(node.Output).Sum(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    [GeneratedRegex(@"Batch \d+-\d+ of operation \d+: (\d+) messages")]
    private static partial Regex BatchLine();
}
