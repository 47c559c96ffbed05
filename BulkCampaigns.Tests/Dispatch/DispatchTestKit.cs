using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>The app with a simulator that never fails, so results can be counted exactly.</summary>
public sealed class ExactSimulatorApp : Infrastructure.AppFactory
{
    public ExactSimulatorApp() => DispatchTestKit.UseExactSimulator(Settings);
}

/// <summary>The same app on PostgreSQL, for the engine's tests that run on both providers.</summary>
public sealed class PostgresExactSimulatorApp : Infrastructure.AppFactory
{
    public PostgresExactSimulatorApp() : base(Infrastructure.TestProvider.Postgres) => DispatchTestKit.UseExactSimulator(Settings);
}

/// <summary>Steps the dispatch tests share: senders, groups inserted directly, sends and waiting on operations.</summary>
public static class DispatchTestKit
{
    /// <summary>A simulator that never fails and reports delivery soon, so results can be counted exactly.</summary>
    public static void UseExactSimulator(Dictionary<string, string?> settings)
    {
        settings["Messaging:Simulated:LatencyMs"] = "0";
        settings["Messaging:Simulated:FailureRate"] = "0";
        settings["Messaging:Simulated:UndeliveredRate"] = "0";
        settings["Messaging:Simulated:DeliveryDelayMs"] = "200";
        settings["Dispatch:BatchSize"] = "100";
        // The tests sweep in-flight claims themselves (InFlightSweeper.SweepAsync), at the moment they choose.
        settings["Dispatch:InFlightSweepSeconds"] = "3600";
    }

    public static async Task<string> CreateSenderAsync(HttpClient client, string address, int mps)
    {
        var response = await client.PostAsJsonAsync("/v1/Senders", new { address, channel = "SMS", mps });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("id").GetString()!;
    }

    /// <summary>
    /// Inserts a group with recipients straight into the database (imports belong to another feature): the app's
    /// SQLite file ("Data Source=…") or its PostgreSQL database (an Npgsql connection string).
    /// </summary>
    public static async Task<string> InsertGroupAsync(string connectionString, IEnumerable<(string Address, string VariablesJson)> recipients, string name = "test group")
    {
        await using var connection = Open(connectionString);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var now = DateTimeOffset.UtcNow;
        var groupId = Convert.ToInt64(await ScalarAsync(connection, tx,
            """INSERT INTO "Groups" ("Name", "RecipientCount", "AttributeKeysJson", "CreatedAt", "UpdatedAt") VALUES (@name, 0, '[]', @now, @now) RETURNING "Id" """,
            ("name", name), ("now", now)), System.Globalization.CultureInfo.InvariantCulture);
        var count = 0;
        foreach (var (address, variables) in recipients)
        {
            await ScalarAsync(connection, tx,
                """INSERT INTO "Recipients" ("GroupId", "Address", "Channel", "VariablesJson", "CreatedAt") VALUES (@g, @a, 'PHONE', @v, @now)""",
                ("g", groupId), ("a", address), ("v", variables), ("now", now));
            count++;
        }
        await ScalarAsync(connection, tx, """UPDATE "Groups" SET "RecipientCount" = @c WHERE "Id" = @g""", ("c", (long)count), ("g", groupId));
        await tx.CommitAsync();
        return PublicId.Encode(PublicId.Group, groupId);
    }

    /// <summary>A closed connection to the app's database, of its provider.</summary>
    public static DbConnection Open(string connectionString) =>
        connectionString.StartsWith("Data Source=", StringComparison.OrdinalIgnoreCase)
            ? new SqliteConnection(connectionString)
            : new NpgsqlConnection(connectionString);

    private static async Task<object?> ScalarAsync(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (parameterName, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = parameterName;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Distinct valid US numbers: +1 202 555 xxxx and onwards through other area codes.</summary>
    public static string Number(int i) => $"+1{202 + i / 10000}555{i % 10000:D4}";

    public static async Task<string> SendAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/v1/Messages", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"expected 202, got {(int)response.StatusCode}: {text}");
        Assert.Equal("", text);
        var id = response.Headers.GetValues("operationId").Single();
        Assert.Equal($"/v1/Messages/Operations/{id}", response.Headers.Location!.ToString());
        return id;
    }

    public static async Task<JsonElement> GetOperationAsync(HttpClient client, string id) =>
        await client.GetFromJsonAsync<JsonElement>($"/v1/Messages/Operations/{id}");

    /// <summary>Polls until <paramref name="done"/> holds for the operation (no timed assertion: the long limit only stops a hung test).</summary>
    public static async Task<JsonElement> WaitForAsync(HttpClient client, string id, Func<JsonElement, bool> done, int timeoutSeconds = 60)
    {
        var until = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var op = await GetOperationAsync(client, id);
            if (done(op))
            {
                return op;
            }
            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"operation {id} did not get there: {op}");
            }
            await Task.Delay(50);
        }
    }

    public static Task<JsonElement> WaitForStatusAsync(HttpClient client, string id, string status, int timeoutSeconds = 60) =>
        WaitForAsync(client, id, op => op.GetProperty("status").GetString() == status, timeoutSeconds);

    public static long Stat(JsonElement op, string name) => op.GetProperty("stats").GetProperty(name).GetInt64();

    public static void AssertStatsAddUp(JsonElement op)
    {
        string[] buckets = ["scheduled", "queued", "sent", "delivered", "read", "undelivered", "unaddressable", "failed", "canceled", "suppressed"];
        Assert.Equal(Stat(op, "total"), buckets.Sum(b => Stat(op, b)));
    }

    /// <summary>
    /// An operation whose batch handed every message to the provider ten minutes ago and then stopped (as after a
    /// SIGKILL): PROCESSING, all in flight, and the simulator holding the messages sent to <paramref name="received"/>.
    /// In flight as this version leaves them (<paramref name="claimedRange"/>: QUEUED inside one ClaimedBatches row) or
    /// as a version before claimed ranges did (SENDING on each message's row).
    /// </summary>
    public static async Task<(string Id, long OperationId)> StrandedOperationAsync(this Infrastructure.AppFactory app, HttpClient client, string from, string[] addresses, string text, string[] received, DateTimeOffset reportDue, bool claimedRange = true)
    {
        await CreateSenderAsync(client, from, 1000);
        // Scheduled far ahead so no job touches it until the test has made it look stranded.
        var id = await SendAsync(client, new
        {
            from = new { address = from },
            to = addresses.Select(a => new { address = a }).ToArray(),
            content = new { text },
            schedule = new { sendAt = new[] { DateTimeOffset.UtcNow.AddHours(1).ToString("O") } },
        });
        Assert.True(PublicId.TryDecode(PublicId.Operation, id, out var operationId));
        var claimedAt = DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeMilliseconds();
        await app.ExecuteSqlAsync($"""
            UPDATE "Operations" SET "Status" = 1, "Scheduled" = 0, "Sending" = {addresses.Length}, "StartedAt" = {claimedAt} WHERE "Id" = {operationId};
            {(claimedRange
                ? $"""
                  UPDATE "Messages" SET "Status" = 1 WHERE "OperationId" = {operationId};
                  INSERT INTO "ClaimedBatches" ("OperationId", "FromId", "ToId", "ClaimedAt", "Remaining", "Requeue")
                  SELECT {operationId}, MIN("Id"), MAX("Id"), {claimedAt}, COUNT(*), FALSE FROM "Messages" WHERE "OperationId" = {operationId};
                  """
                : $"""UPDATE "Messages" SET "Status" = 2, "ClaimedAt" = {claimedAt}, "UpdatedAt" = {claimedAt} WHERE "OperationId" = {operationId};""")}
            {(received.Length == 0 ? "" : $"""
              INSERT INTO "SimulatorMessages" ("From", "To", "Body", "MediaJson", "ReceivedAt", "CallbackMessageId", "WillDeliver", "ReportDueAt")
              SELECT '{from}', "Address", '{text}', '[]', {claimedAt + 500}, "Id", TRUE, {reportDue.ToUnixTimeMilliseconds()} FROM "Messages"
              WHERE "OperationId" = {operationId} AND "Address" IN ({string.Join(", ", received.Select(a => $"'{a}'"))});
              """)}
            """);
        return (id, operationId);
    }

    /// <summary>Runs SQL straight on the app's database (either provider: quote the identifiers), to put it in a state a test needs.</summary>
    public static async Task ExecuteSqlAsync(this Infrastructure.AppFactory app, string sql) => await ScalarAsync(app, sql);

    public static async Task<long> ScalarAsync(this Infrastructure.AppFactory app, string sql)
    {
        await using var connection = Open(app.Settings.ConnectionString(app));
        await connection.OpenAsync();
        return await ScalarAsync(connection, null, sql) is { } value and not DBNull ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>Every message the simulator received, following the API's pages.</summary>
    public static async Task<List<JsonElement>> SimulatorMessagesAsync(HttpClient client, string query = "")
    {
        var all = new List<JsonElement>();
        string? next = $"/v1/Simulator/Messages?pageSize=1000{query}";
        while (next is not null)
        {
            var page = await client.GetFromJsonAsync<JsonElement>(next);
            all.AddRange(page.GetProperty("messages").EnumerateArray().Select(m => m.Clone()));
            next = page.GetProperty("pagination").GetProperty("next").GetString();
        }
        return all;
    }
}
