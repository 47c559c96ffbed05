using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class SendOperationTests(ExactSimulatorApp app) : SendOperationTests<ExactSimulatorApp>(app);

/// <summary>On PostgreSQL, through the PostgreSQL engine store.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class SendOperationTestsOnPostgres(PostgresExactSimulatorApp app) : SendOperationTests<PostgresExactSimulatorApp>(app);

public abstract class SendOperationTests<TApp> : IClassFixture<TApp>, IDisposable
    where TApp : AppFactory
{
    private readonly TApp _app;
    private readonly HttpClient _client;

    protected SendOperationTests(TApp app)
    {
        _app = app;
        _client = app.CreateApiClient();
    }

    public void Dispose()
    {
        _client.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Every_recipient_of_groups_and_inline_gets_its_personalized_text_once_and_the_stats_add_up()
    {
        await CreateSenderAsync(_client, "+14155550100", 1000);
        var groupA = await InsertGroupAsync(_app.Settings.ConnectionString(_app),
            Enumerable.Range(0, 60).Select(i => (Number(i), $$"""{"first_name":"A{{i}}"}""")));
        // Overlaps group A on 20..59: each address is sent once.
        var groupB = await InsertGroupAsync(_app.Settings.ConnectionString(_app),
            Enumerable.Range(20, 60).Select(i => (Number(i), $$"""{"first_name":"B{{i}}"}""")));
        var suppressed = Number(5);
        await _app.Services.GetRequiredService<BulkCampaigns.Suppressions.SuppressionService>().AddAsync(suppressed, "test", "manual");

        var id = await SendAsync(_client, new
        {
            from = new { address = "+14155550100", channel = "SMS" },
            to = new object[]
            {
                new { address = Number(0), channel = "PHONE", variables = new { first_name = "Inline" } },
                new { groupId = groupA },
                new { groupId = groupB },
                new { address = Number(500), variables = new { } },
            },
            content = new { text = "Hi {{first_name | default: 'there'}}, {{address}}!" },
            tags = new { campaign = "summer_sale" },
            name = "End to end",
        });

        var op = await WaitForStatusAsync(_client, id, "COMPLETED");
        Assert.Equal("End to end", op.GetProperty("name").GetString());
        Assert.Equal("summer_sale", op.GetProperty("tags").GetProperty("campaign").GetString());
        Assert.Equal(81, Stat(op, "total"));
        Assert.Equal(1, Stat(op, "suppressed"));
        AssertStatsAddUp(op);

        var received = await SimulatorMessagesAsync(_client, "&from=%2B14155550100");
        var byTo = received.GroupBy(m => m.GetProperty("to").GetString()!).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(80, byTo.Count);
        Assert.All(byTo.Values, list => Assert.Single(list));
        Assert.False(byTo.ContainsKey(suppressed));
        Assert.Equal($"Hi Inline, {Number(0)}!", byTo[Number(0)][0].GetProperty("body").GetString());
        Assert.Equal($"Hi A10, {Number(10)}!", byTo[Number(10)][0].GetProperty("body").GetString());
        Assert.Equal($"Hi there, {Number(500)}!", byTo[Number(500)][0].GetProperty("body").GetString());
        // The first group listed wins for an address in both groups.
        Assert.Equal($"Hi A30, {Number(30)}!", byTo[Number(30)][0].GetProperty("body").GetString());
        Assert.Equal($"Hi B70, {Number(70)}!", byTo[Number(70)][0].GetProperty("body").GetString());

        // Delivery reports move every sent message on; the buckets still add up.
        op = await WaitForAsync(_client, id, o => Stat(o, "delivered") == 80);
        AssertStatsAddUp(op);
        Assert.Equal(0, Stat(op, "sent"));

        // Messages: filtered and paged, each exactly once.
        var seen = new HashSet<string>();
        string? next = $"/v1/Messages?operationId={id}&pageSize=7";
        while (next is not null)
        {
            var page = await _client.GetFromJsonAsync<JsonElement>(next);
            foreach (var m in page.GetProperty("messages").EnumerateArray())
            {
                Assert.True(seen.Add(m.GetProperty("id").GetString()!));
                Assert.Equal(id, m.GetProperty("operationId").GetString());
                // The provider's ID names what that recipient's phone received.
                if (m.GetProperty("status").GetString() != "SUPPRESSED")
                {
                    var to = m.GetProperty("to").GetProperty("address").GetString()!;
                    Assert.Equal(byTo[to][0].GetProperty("id").GetString(), m.GetProperty("providerMessageId").GetString());
                }
            }
            next = page.GetProperty("pagination").GetProperty("next").GetString();
        }
        Assert.Equal(81, seen.Count);
        var suppressedPage = await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages?operationId={id}&status=SUPPRESSED");
        var suppressedMessage = Assert.Single(suppressedPage.GetProperty("messages").EnumerateArray());
        Assert.Equal(suppressed, suppressedMessage.GetProperty("to").GetProperty("address").GetString());
        var one = await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages/{seen.First()}");
        Assert.Equal(id, one.GetProperty("operationId").GetString());
    }

    [Fact]
    public async Task A_bad_request_lists_every_problem_and_creates_nothing()
    {
        await CreateSenderAsync(_client, "+14155550111", 10);
        var before = await CountOperationsAsync();

        var response = await _client.PostAsJsonAsync("/v1/Messages", new
        {
            from = new { address = "+14155559999" },
            to = new object[] { new { address = "12ab" }, new { address = Number(1) }, new { address = "+1" }, new { groupId = "grp_nope" } },
            content = new { text = "Hi {{ name " },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        var fields = error.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Contains("from", fields);
        Assert.Contains("to[0].address", fields);
        Assert.Contains("to[2].address", fields);
        Assert.Contains("to[3].groupId", fields);
        Assert.Contains("content.text", fields);
        Assert.DoesNotContain("to[1].address", fields);
        Assert.Equal(before, await CountOperationsAsync());
    }

    [Fact]
    public async Task A_scheduled_operation_waits_for_its_time_and_can_be_canceled_before()
    {
        await CreateSenderAsync(_client, "+14155550122", 100);
        var id = await SendAsync(_client, new
        {
            from = new { address = "+14155550122" },
            to = new[] { new { address = Number(900) }, new { address = Number(901) } },
            content = new { text = "Later" },
            schedule = new { sendAt = new[] { DateTimeOffset.UtcNow.AddHours(1).ToString("O") } },
        });
        var op = await GetOperationAsync(_client, id);
        Assert.Equal("SCHEDULED", op.GetProperty("status").GetString());
        Assert.Equal(2, Stat(op, "scheduled"));

        var cancel = await _client.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        op = await GetOperationAsync(_client, id);
        Assert.Equal("CANCELED", op.GetProperty("status").GetString());
        Assert.Equal(2, Stat(op, "canceled"));
        AssertStatsAddUp(op);
        Assert.Equal(HttpStatusCode.Conflict, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Resume", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.PostAsync("/v1/Messages/Operations/comms_operation_nope/Pause", null)).StatusCode);
    }

    [Fact]
    public async Task A_scheduled_operation_paused_and_resumed_before_its_time_waits_for_it_again()
    {
        await CreateSenderAsync(_client, "+14155550123", 100);
        var id = await SendAsync(_client, new
        {
            from = new { address = "+14155550123" },
            to = new[] { new { address = Number(910) }, new { address = Number(911) } },
            content = new { text = "Later still" },
            schedule = new { sendAt = new[] { DateTimeOffset.UtcNow.AddHours(1).ToString("O") } },
        });
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Pause", null)).StatusCode);
        Assert.Equal("PAUSED", (await GetOperationAsync(_client, id)).GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Resume", null)).StatusCode);
        await Task.Delay(300);
        var op = await GetOperationAsync(_client, id);
        Assert.Equal("SCHEDULED", op.GetProperty("status").GetString());
        Assert.Equal(2, Stat(op, "scheduled"));
        Assert.Empty(await SimulatorMessagesAsync(_client, "&from=%2B14155550123"));
        AssertStatsAddUp(op);
    }

    private async Task<int> CountOperationsAsync()
    {
        var count = 0;
        string? next = "/v1/Messages/Operations?pageSize=1000";
        while (next is not null)
        {
            var page = await _client.GetFromJsonAsync<JsonElement>(next);
            count += page.GetProperty("operations").GetArrayLength();
            next = page.GetProperty("pagination").GetProperty("next").GetString();
        }
        return count;
    }
}

internal static class SettingsExtensions
{
    public static string ConnectionString(this Dictionary<string, string?> _, AppFactory app) =>
        app.Provider == TestProvider.Sqlite ? $"Data Source={app.DatabasePath}" : app.Database.ConnectionString;
}
