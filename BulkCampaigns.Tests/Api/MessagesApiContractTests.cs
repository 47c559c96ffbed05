using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Api;

/// <summary>POST /v1/Messages exactly as docs/api.md shapes it, and every way a request can be refused.</summary>
public sealed class MessagesApiContractTests : IClassFixture<ExactSimulatorApp>
{
    private readonly ExactSimulatorApp _app;
    private readonly HttpClient _client;

    public MessagesApiContractTests(ExactSimulatorApp app)
    {
        _app = app;
        _client = app.CreateApiClient();
    }

    [Fact]
    public async Task The_example_request_of_the_contract_is_accepted_and_sent()
    {
        var sender = await _client.PostAsJsonAsync("/v1/Senders", new { address = "+15551230000", channel = "SMS", mps = 10 });
        Assert.Equal(HttpStatusCode.Created, sender.StatusCode);
        var group = await InsertGroupAsync(_app.Settings.ConnectionString(_app), [(Number(9500), """{"name":"Gia"}""")], "Example group");
        var sendAt = DateTimeOffset.UtcNow.AddSeconds(2).ToString("yyyy-MM-ddTHH:mm:ssZ");
        var body = $$$"""
            {"from": {"address": "+15551230000", "channel": "SMS"},
             "to": [{"address": "+18015679900", "channel": "PHONE", "variables": {"name": "Fred"}},
                    {"groupId": "{{{group}}}"}],
             "content": {"text": "Hello {{name | default: 'there'}}!"},
             "schedule": {"sendAt": ["{{{sendAt}}}"]},
             "tags": {"campaign": "summer_sale"},
             "name": "Summer sale"}
            """;

        var response = await _client.PostAsync("/v1/Messages", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        var id = response.Headers.GetValues("operationId").Single();
        Assert.StartsWith("comms_operation_", id, StringComparison.Ordinal);
        Assert.Equal($"/v1/Messages/Operations/{id}", response.Headers.Location!.ToString());
        var op = await WaitForStatusAsync(_client, id, "COMPLETED");
        Assert.Equal("Summer sale", op.GetProperty("name").GetString());
        Assert.Equal("summer_sale", op.GetProperty("tags").GetProperty("campaign").GetString());
        var bodies = (await SimulatorMessagesAsync(_client, "&from=%2B15551230000")).Select(m => m.GetProperty("body").GetString()).Order().ToList();
        Assert.Equal(["Hello Fred!", "Hello Gia!"], bodies);
    }

    [Fact]
    public async Task A_body_over_10_MB_is_refused_with_413_and_nothing_is_made()
    {
        var before = await OperationCountAsync();
        var huge = new StringBuilder("{\"to\": [");
        while (huge.Length < 11 * 1024 * 1024)
        {
            huge.Append("{\"address\": \"+18015679900\", \"variables\": {\"padding\": \"").Append('x', 1000).Append("\"}},");
        }
        huge.Append("{}]}");

        var response = await _client.PostAsync("/v1/Messages", new StringContent(huge.ToString(), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(413, error.GetProperty("status").GetInt32());
        Assert.Equal(before, await OperationCountAsync());
    }

    [Fact]
    public async Task Malformed_json_is_refused_with_where_it_breaks()
    {
        var response = await _client.PostAsync("/v1/Messages", new StringContent("{\"from\": {\"address\": \"+1\",\n \"to\": [}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("line 2", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task More_than_10000_recipients_is_refused_with_code_20010()
    {
        var to = Enumerable.Range(0, 10_001).Select(i => new { address = Number(i) });

        var response = await _client.PostAsJsonAsync("/v1/Messages", new { from = new { address = "+15551230000" }, to, content = new { text = "x" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(20010, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Every_problem_of_a_request_is_listed_with_its_path_and_nothing_is_made()
    {
        var before = await OperationCountAsync();

        var response = await _client.PostAsJsonAsync("/v1/Messages", new
        {
            from = new { address = "+19998887777", channel = "SMS" },
            to = new object[] { new { address = Number(1) }, new { address = "12ab" }, new { address = Number(2) }, new { address = "" } },
            content = new { text = "Hi {{ name" },
            schedule = new { sendAt = new[] { "2020-01-01T00:00:00Z" } },
            tags = new Dictionary<string, string> { ["bad key!"] = "v" },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var fields = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray()
            .Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Contains("from", fields);
        Assert.Contains("to[1].address", fields);
        Assert.Contains("to[3].address", fields);
        Assert.Contains(fields, f => f!.StartsWith("content", StringComparison.Ordinal));
        Assert.Contains(fields, f => f!.StartsWith("schedule", StringComparison.Ordinal));
        Assert.Contains(fields, f => f!.StartsWith("tags", StringComparison.Ordinal));
        Assert.Equal(before, await OperationCountAsync());
    }

    [Fact]
    public async Task A_viewer_key_may_not_send()
    {
        var viewer = await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<BulkCampaigns.Auth.ApiKeyService>(_app.Services).CreateAsync("Read only", BulkCampaigns.Auth.Roles.Viewer);
        using var client = _app.CreateApiClient(viewer.Sid, viewer.Secret);

        var response = await client.PostAsJsonAsync("/v1/Messages", new { to = Array.Empty<object>() });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Following_next_while_the_operation_sends_yields_every_message_exactly_once()
    {
        await CreateSenderAsync(_client, "+14155550170", 20);
        var id = await SendAsync(_client, new
        {
            from = new { address = "+14155550170", channel = "SMS" },
            to = Enumerable.Range(9600, 45).Select(i => new { address = Number(i) }),
            content = new { text = "Paced" },
        });

        var seen = new List<string>();
        var statuses = new HashSet<string>();
        string? next = $"/v1/Messages?operationId={id}&pageSize=4";
        while (next is not null)
        {
            var page = await _client.GetFromJsonAsync<JsonElement>(next);
            foreach (var message in page.GetProperty("messages").EnumerateArray())
            {
                seen.Add(message.GetProperty("id").GetString()!);
                statuses.Add(message.GetProperty("status").GetString()!);
            }
            next = page.GetProperty("pagination").GetProperty("next").GetString();
            await Task.Delay(100); // the operation goes on sending between pages
        }
        var byAddress = await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages?operationId={id}&address=%2B{Number(9610)[1..]}");

        Assert.Equal(45, seen.Count);
        Assert.Equal(45, seen.Distinct().Count());
        Assert.Contains("QUEUED", statuses); // pages were read while it was still sending
        Assert.Equal(Number(9610), byAddress.GetProperty("messages").EnumerateArray().Single().GetProperty("to").GetProperty("address").GetString());
        await _client.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null);
    }

    [Fact]
    public async Task Operations_are_listed_page_by_page_each_once()
    {
        await CreateSenderAsync(_client, "+14155550171", 1000);
        for (var i = 0; i < 5; i++)
        {
            await SendAsync(_client, new { from = new { address = "+14155550171" }, to = new[] { new { address = Number(9700 + i) } }, content = new { text = "x" } });
        }

        var ids = new List<string>();
        string? next = "/v1/Messages/Operations?pageSize=2";
        while (next is not null)
        {
            var page = await _client.GetFromJsonAsync<JsonElement>(next);
            ids.AddRange(page.GetProperty("operations").EnumerateArray().Select(o => o.GetProperty("id").GetString()!));
            next = page.GetProperty("pagination").GetProperty("next").GetString();
        }

        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.True(ids.Count >= 5);
    }

    private async Task<int> OperationCountAsync() =>
        (await _client.GetFromJsonAsync<JsonElement>("/v1/Messages/Operations?pageSize=1000")).GetProperty("operations").GetArrayLength();
}
