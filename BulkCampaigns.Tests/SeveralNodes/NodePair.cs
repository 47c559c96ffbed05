using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using BulkCampaigns.Data;
using BulkCampaigns.Tests.Infrastructure;
using Npgsql;

namespace BulkCampaigns.Tests.SeveralNodes;

/// <summary>
/// Two app processes on one PostgreSQL database and one Redis, as an operator runs several nodes: node A and node B.
/// With <c>aRunsJobs: false</c> node A serves the pages and the API only (<c>Jobs:WorkerCount=0</c>), so every batch
/// and import runs on node B and whatever node A shows or stops of them went across.
/// </summary>
public sealed class NodePair : IAsyncDisposable
{
    private NodePair(TestDatabase database, AppProcess a, AppProcess b)
    {
        Database = database;
        A = a;
        B = b;
    }

    public TestDatabase Database { get; }
    public AppProcess A { get; }
    public AppProcess B { get; }

    public static async Task<NodePair> StartAsync(bool aRunsJobs)
    {
        var redis = TestRedis.Address();
        var database = TestDatabase.Create(TestProvider.Postgres);
        Dictionary<string, string> Settings(string name) => new()
        {
            ["ConnectionStrings:Redis"] = redis,
            ["Node:Name"] = name,
            // Each batch's end is logged, so a test can tell which node ran it.
            ["Logging:LogLevel:BulkCampaigns.Dispatch.DispatchJobs"] = "Debug",
        };
        var settingsA = Settings("A");
        if (!aRunsJobs)
        {
            settingsA["Jobs:WorkerCount"] = "0";
        }
        // One after the other: the first one migrates the database and prepares Hangfire's schema.
        var a = AppProcess.Start(database, settings: settingsA);
        try
        {
            await a.WaitHealthyAsync(120);
            var b = AppProcess.Start(database, settings: Settings("B"));
            await b.WaitHealthyAsync(120);
            return new NodePair(database, a, b);
        }
        catch
        {
            a.Dispose();
            database.Dispose();
            throw;
        }
    }

    /// <summary>How many batches of the operation the node has finished (its log says so).</summary>
    public static int BatchesRun(AppProcess node, string operationId)
    {
        Assert.True(PublicId.TryDecode(PublicId.Operation, operationId, out var key));
        return Regex.Count(node.Output, $@"Batch \d+-\d+ of operation {key}:");
    }

    /// <summary>When the Simulator received each message from <paramref name="from"/> (its own clock, ms), in order.</summary>
    public async Task<List<long>> ReceivedAtAsync(string from)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "ReceivedAt" FROM "SimulatorMessages" WHERE "From" = @from ORDER BY "ReceivedAt" """, connection);
        command.Parameters.AddWithValue("from", from);
        var times = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            times.Add(reader.GetInt64(0));
        }
        return times;
    }

    public async Task<long> DistinctRecipientsAsync(string from) =>
        await Database.CountAsync($"""SELECT COUNT(DISTINCT "To") FROM "SimulatorMessages" WHERE "From" = '{from}'""");

    /// <summary>Creates a group through <paramref name="client"/> and imports <paramref name="csv"/> into it; the import's id.</summary>
    public static async Task<(string GroupId, string ImportId)> ImportAsync(HttpClient client, string name, string csv)
    {
        var created = await client.PostAsync("/v1/Groups", new StringContent(JsonSerializer.Serialize(new { name }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var groupId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var import = await client.PostAsync($"/v1/Groups/{groupId}/Imports", new StringContent(csv, Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.Accepted, import.StatusCode);
        var importId = (await import.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        return (groupId, importId);
    }

    public static async Task<JsonElement> WaitImportedAsync(HttpClient client, string groupId, string importId, int timeoutSeconds = 120)
    {
        var until = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var import = await client.GetFromJsonAsync<JsonElement>($"/v1/Groups/{groupId}/Imports/{importId}");
            if (import.GetProperty("status").GetString() != "PROCESSING")
            {
                Assert.Equal("COMPLETED", import.GetProperty("status").GetString());
                return import;
            }
            Assert.True(DateTime.UtcNow < until, $"the import did not finish: {import}");
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        A.Dispose();
        B.Dispose();
        await Task.Yield();
        Database.Dispose();
    }
}
