using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Content;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static BulkCampaigns.Tests.Dispatch.AbContentCases;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
public sealed class AbVariantTests(ExactSimulatorApp app, ITestOutputHelper output) : AbVariantTests<ExactSimulatorApp>(app, output);

/// <summary>On PostgreSQL, through the PostgreSQL engine store (its own md5 split).</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class AbVariantTestsOnPostgres(PostgresExactSimulatorApp app, ITestOutputHelper output) : AbVariantTests<PostgresExactSimulatorApp>(app, output);

/// <summary>A/B variants through the API and the Simulator (docs/api.md: A/B variants).</summary>
public abstract class AbVariantTests<TApp> : IClassFixture<TApp>, IDisposable
    where TApp : AppFactory
{
    private readonly TApp _app;
    private readonly HttpClient _client;
    private readonly ITestOutputHelper _output;

    protected AbVariantTests(TApp app, ITestOutputHelper output)
    {
        _app = app;
        _output = output;
        _client = app.CreateApiClient();
    }

    public void Dispose()
    {
        _client.Dispose();
        GC.SuppressFinalize(this);
    }

    private static object Inline(string from, int first, int count, object content, string? sendAt = null) => new
    {
        from = new { address = from },
        to = Enumerable.Range(first, count).Select(i => new { address = Number(i) }).ToArray(),
        content,
        schedule = sendAt is null ? null : new { sendAt = new[] { sendAt } },
    };

    private static long Key(string operationId) => PublicId.TryDecode(PublicId.Operation, operationId, out var id) ? id : throw new ArgumentException(operationId);

    private async Task<List<(long Id, string Address, int? Variant, int Status)>> MessagesAsync(string operationId)
    {
        await using var connection = Open(_app.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""SELECT "Id", "Address", "Variant", "Status" FROM "Messages" WHERE "OperationId" = {Key(operationId)} ORDER BY "Id" """;
        var rows = new List<(long, string, int?, int)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.GetInt32(3)));
        }
        return rows;
    }

    private async Task<List<string>> ReceivedBodiesAsync(string from)
    {
        var bodies = new List<string>();
        string? next = $"/v1/Simulator/Messages?from={Uri.EscapeDataString(from)}&pageSize=1000";
        while (next is not null)
        {
            var page = await _client.GetFromJsonAsync<JsonElement>(next);
            bodies.AddRange(page.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("body").GetString()!));
            next = page.GetProperty("pagination").GetProperty("next").GetString();
        }
        return bodies;
    }

    [Fact]
    public async Task Ten_thousand_recipients_are_split_by_the_weights_within_one_percent_and_each_stored_variant_is_the_stable_hashs()
    {
        const string from = "+14155550601";
        await CreateSenderAsync(_client, from, 100);
        var group = await InsertGroupAsync(_app.Database.ConnectionString, Enumerable.Range(50_000, 10_000).Select(i => (Number(i), "{}")), "ab split");
        // Scheduled an hour ahead: the split is written when the operation is made, nothing needs to go out.
        var id = await SendAsync(_client, new
        {
            from = new { address = from },
            to = new[] { new { groupId = group } },
            content = Variants(70, 30),
            schedule = new { sendAt = new[] { DateTimeOffset.UtcNow.AddHours(1).ToString("O", CultureInfo.InvariantCulture) } },
        });
        var rows = await MessagesAsync(id);
        Assert.Equal(10_000, rows.Count);
        Assert.InRange(rows.Count(r => r.Variant == 0) / 10_000.0, 0.69, 0.71);
        Assert.InRange(rows.Count(r => r.Variant == 1) / 10_000.0, 0.29, 0.31);
        // The database's split is the plan's, recipient by recipient (PostgreSQL's md5 and SQLite's function agree with C#).
        var plan = VariantPlan.Of(MessageContent.FromJson(JsonSerializer.Serialize(Variants(70, 30))).ToJson())!;
        var split = plan.AssignAll(Key(id), rows.Select(r => (r.Id, r.Address)).ToList());
        Assert.All(rows, r => Assert.Equal(split[r.Id], r.Variant));

        var op = await GetOperationAsync(_client, id);
        var variants = op.GetProperty("variants").EnumerateArray().ToList();
        Assert.Equal(["A", "B"], variants.Select(v => v.GetProperty("name").GetString()));
        Assert.Equal(10_000, variants.Sum(v => v.GetProperty("total").GetInt64()));
        Assert.Equal(70, variants[0].GetProperty("weight").GetDouble());
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null)).StatusCode);
    }

    [Fact]
    public async Task Each_recipient_receives_its_variants_text_once_and_the_message_the_export_and_the_operation_name_the_variant()
    {
        const string from = "+14155550602";
        await CreateSenderAsync(_client, from, 500);
        var id = await SendAsync(_client, Inline(from, 60_000, 300, Variants(50, 50)));
        var op = await WaitForAsync(_client, id, o => o.GetProperty("status").GetString() == "COMPLETED" && Stat(o, "delivered") == 300);
        AssertStatsAddUp(op);

        var rows = await MessagesAsync(id);
        var received = await ReceivedBodiesAsync(from);
        Assert.Equal(300, received.Count);
        var byAddress = rows.ToDictionary(r => r.Address, r => r.Variant);
        foreach (var body in received)
        {
            var name = body[..1];
            var address = body[(body.LastIndexOf(' ') + 1)..];
            Assert.Equal(name == "A" ? 0 : 1, byAddress[address]);
        }
        var variants = op.GetProperty("variants").EnumerateArray().ToList();
        Assert.Equal(rows.Count(r => r.Variant == 0), variants[0].GetProperty("total").GetInt64());
        Assert.Equal(rows.Count(r => r.Variant == 0), variants[0].GetProperty("delivered").GetInt64());
        Assert.Equal(300, variants.Sum(v => v.GetProperty("sent").GetInt64()));
        Assert.Equal(0, variants.Sum(v => v.GetProperty("failed").GetInt64()));
        Assert.Equal(0, variants.Sum(v => v.GetProperty("clicked").GetInt64()));

        var page = await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages?operationId={id}&pageSize=1000");
        Assert.All(page.GetProperty("messages").EnumerateArray(), m =>
            Assert.StartsWith(m.GetProperty("variant").GetString()!, m.GetProperty("content").GetProperty("text").GetString()!, StringComparison.Ordinal));

        var csv = await _client.GetStringAsync($"/campaigns/{id}/messages.csv");
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.EndsWith(",variant", lines[0], StringComparison.Ordinal);
        Assert.Equal(300, lines.Skip(1).Count(l => l.EndsWith(",A", StringComparison.Ordinal) || l.EndsWith(",B", StringComparison.Ordinal)));
    }

    private async Task<(string Id, int Tested)> StartTestAsync(string from, int first, string decideAfter)
    {
        await CreateSenderAsync(_client, from, 500);
        var id = await SendAsync(_client, Inline(from, first, 400, Variants(50, 50, new { share = 20, decideAfter, metric = "delivered" })));
        var op = await WaitForStatusAsync(_client, id, "WAITING_FOR_WINNER");
        var tested = (int)op.GetProperty("variants").EnumerateArray().Sum(v => v.GetProperty("total").GetInt64());
        Assert.InRange(tested, 79, 81);
        Assert.Equal(400 - tested, Stat(op, "scheduled"));
        Assert.Equal(JsonValueKind.Null, op.TryGetProperty("winner", out var w) ? w.ValueKind : JsonValueKind.Null);
        AssertStatsAddUp(op);
        return (id, tested);
    }

    [Fact]
    public async Task Paused_during_the_wait_the_decision_is_taken_but_the_rest_waits_for_resume_then_goes_to_each_recipient_once_with_the_winner()
    {
        const string from = "+14155550603";
        var (id, tested) = await StartTestAsync(from, 61_000, "PT2S");
        var pause = await _client.PostAsync($"/v1/Messages/Operations/{id}/Pause", null);
        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        Assert.Equal("PAUSED", (await pause.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        var op = await WaitForAsync(_client, id, o => o.TryGetProperty("winner", out var w) && w.ValueKind == JsonValueKind.Object);
        Assert.Equal("PAUSED", op.GetProperty("status").GetString());
        // Both delivered everything: the tie goes to the first.
        Assert.Equal("A", op.GetProperty("winner").GetProperty("name").GetString());
        Assert.Equal(1.0, op.GetProperty("winner").GetProperty("rates").GetProperty("B").GetDouble());
        Assert.Equal(tested, (await ReceivedBodiesAsync(from)).Count);
        Assert.Equal(400 - tested, Stat(op, "queued"));

        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Resume", null)).StatusCode);
        op = await WaitForStatusAsync(_client, id, "COMPLETED");
        AssertStatsAddUp(op);
        var received = await ReceivedBodiesAsync(from);
        Assert.Equal(400, received.Count);
        Assert.Equal(400, received.Select(b => b[(b.LastIndexOf(' ') + 1)..]).Distinct().Count());
        var rows = await MessagesAsync(id);
        var plan = VariantPlan.Of(MessageContent.FromJson(JsonSerializer.Serialize(Variants(50, 50, new { share = 20, decideAfter = "PT2S", metric = "delivered" }))).ToJson())!;
        // The test's recipients kept their variant; every other one got the winner.
        var split = plan.AssignAll(Key(id), rows.Select(r => (r.Id, r.Address)).ToList());
        Assert.Equal(tested, split.Values.Count(v => v is not null));
        Assert.All(rows, r => Assert.Equal(split[r.Id] ?? 0, r.Variant));
        Assert.Equal(400 - tested + split.Values.Count(v => v == 0), op.GetProperty("variants")[0].GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Canceled_during_the_wait_the_rest_is_canceled_and_the_decision_sends_nothing()
    {
        const string from = "+14155550604";
        var (id, tested) = await StartTestAsync(from, 62_000, "PT1H");
        var cancel = await _client.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var op = await cancel.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("CANCELED", op.GetProperty("status").GetString());
        Assert.Equal(400 - tested, Stat(op, "canceled"));
        Assert.Equal(0, Stat(op, "scheduled"));
        AssertStatsAddUp(op);

        // The decision's job, run now as if its hour had passed, finds the operation canceled.
        await _app.Services.GetRequiredService<VariantWinner>().DecideAsync(Key(id), CancellationToken.None);
        op = await GetOperationAsync(_client, id);
        Assert.Equal("CANCELED", op.GetProperty("status").GetString());
        Assert.True(!op.TryGetProperty("winner", out var w) || w.ValueKind == JsonValueKind.Null);
        Assert.Equal(tested, (await ReceivedBodiesAsync(from)).Count);
        Assert.Equal(0, (await MessagesAsync(id)).Count(r => r.Status is 1 or 11));
    }

    [Fact]
    public async Task A_decision_not_due_yet_is_not_taken_early()
    {
        const string from = "+14155550605";
        var (id, tested) = await StartTestAsync(from, 63_000, "PT1H");
        await _app.Services.GetRequiredService<VariantWinner>().DecideAsync(Key(id), CancellationToken.None);
        var op = await GetOperationAsync(_client, id);
        Assert.Equal("WAITING_FOR_WINNER", op.GetProperty("status").GetString());
        Assert.Equal(400 - tested, Stat(op, "scheduled"));
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null)).StatusCode);
    }

    [Theory]
    [MemberData(nameof(AbContentCases.BadVariants), MemberType = typeof(AbContentCases))]
    public async Task Bad_variants_are_refused_at_every_door_naming_the_field(string content, string field)
    {
        const string from = "+14155550606";
        await _client.PostAsJsonAsync("/v1/Senders", new { address = from, channel = "SMS", mps = 10 });
        var doors = new[]
        {
            ("/v1/Messages", $$"""{"from": {"address": "{{from}}"}, "to": [{"address": "+12025550100"}], "content": {{content}} }"""),
            ("/v1/Content", $$"""{"name": "ab", "content": {{content}} }"""),
            ("/v1/Content/Preview", $$"""{"content": {{content}}, "variables": {} }"""),
        };
        foreach (var (path, body) in doors)
        {
            var response = await _client.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode} {text}");
            var errors = JsonDocument.Parse(text).RootElement.GetProperty("errors").EnumerateArray().ToList();
            Assert.True(errors.Any(e => e.GetProperty("field").GetString() == field), $"{path}: no error on {field}: {text}");
        }
    }
}

/// <summary>A/B contents the API refuses, and the field each problem is on.</summary>
public static class AbContentCases
{
    /// <summary>Two variants whose text starts with their name, so a received body tells which one it was.</summary>
    public static object Variants(double a = 50, double b = 50, object? test = null) => new Dictionary<string, object?>
    {
        ["variants"] = new object[]
        {
            new { name = "A", weight = a, content = new { text = "A hello {{address}}" } },
            new { name = "B", weight = b, content = new { text = "B hi {{address}}" } },
        },
        ["test"] = test,
    }.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value);

    public static TheoryData<string, string> BadVariants => new()
    {
        { """{"variants": [{"name": "A", "weight": 50, "content": {"text": "a"}}]}""", "content.variants" },
        { """{"variants": [{"name": "A", "weight": 50, "content": {"text": "a"}}, {"name": "B", "weight": 0, "content": {"text": "b"}}]}""", "content.variants[1].weight" },
        { """{"variants": [{"name": "A", "weight": 50, "content": {"text": "a"}}, {"name": "B", "weight": -3, "content": {"text": "b"}}]}""", "content.variants[1].weight" },
        { """{"variants": [{"name": "A", "weight": 50, "content": {"text": "a"}}, {"name": "a", "weight": 50, "content": {"text": "b"}}]}""", "content.variants[1].name" },
        { """{"variants": [{"name": "A", "weight": 50, "content": {"text": "a"}}, {"weight": 50, "content": {"text": "b"}}]}""", "content.variants[1].name" },
        { """{"variants": [{"name": "A", "weight": 50, "content": {"text": "a"}}, {"name": "B", "weight": 50}]}""", "content.variants[1].content" },
        { """{"variants": [{"name": "A", "weight": 50, "content": {"text": "a {{ oops"}}, {"name": "B", "weight": 50, "content": {"text": "b"}}]}""", "content.variants[0].content.text" },
        { """{"variants": [{"name": "A", "weight": 50, "content": {"text": "a"}}, {"name": "B", "weight": 50, "content": {"modules": []}}]}""", "content.variants[1].content.modules" },
        { """{"text": "x", "variants": [{"name": "A", "weight": 50, "content": {"text": "a"}}, {"name": "B", "weight": 50, "content": {"text": "b"}}]}""", "content" },
        { """{"variants": [{"name": "A", "weight": 1, "content": {"text": "a"}}, {"name": "B", "weight": 1, "content": {"text": "b"}}], "test": {"share": 100, "decideAfter": "PT4H", "metric": "delivered"}}""", "content.test.share" },
        { """{"variants": [{"name": "A", "weight": 1, "content": {"text": "a"}}, {"name": "B", "weight": 1, "content": {"text": "b"}}], "test": {"share": 20, "decideAfter": "4 hours", "metric": "delivered"}}""", "content.test.decideAfter" },
        { """{"variants": [{"name": "A", "weight": 1, "content": {"text": "a"}}, {"name": "B", "weight": 1, "content": {"text": "b"}}], "test": {"share": 20, "decideAfter": "PT4H", "metric": "opened"}}""", "content.test.metric" },
        { """{"text": "x", "test": {"share": 20, "decideAfter": "PT4H", "metric": "delivered"}}""", "content.variants" },
    };
}
