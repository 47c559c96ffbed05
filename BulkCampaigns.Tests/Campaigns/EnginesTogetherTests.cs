using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Campaigns;

/// <summary>Where the features meet: stored templates sent by the engine, groups guarded while in use, exports.</summary>
public sealed class EnginesTogetherTests : IClassFixture<ExactSimulatorApp>
{
    private readonly ExactSimulatorApp _app;
    private readonly HttpClient _client;

    public EnginesTogetherTests(ExactSimulatorApp app)
    {
        _app = app;
        _client = app.CreateApiClient();
    }

    [Fact]
    public async Task A_stored_template_is_sent_by_its_content_id_personalized_for_each_recipient()
    {
        await CreateSenderAsync(_client, "+14155550160", 1000);
        var created = await _client.PostAsJsonAsync("/v1/Content", new { name = "Stored hello", content = new { text = "Hello {{name | default: 'friend'}}" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var contentId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var id = await SendAsync(_client, new
        {
            from = new { address = "+14155550160", channel = "SMS" },
            to = new object[] { new { address = Number(9100), variables = new { name = "Ada" } }, new { address = Number(9101) } },
            content = new { contentId },
        });
        await WaitForStatusAsync(_client, id, "COMPLETED");

        var received = (await SimulatorMessagesAsync(_client, "&from=%2B14155550160")).Select(m => m.GetProperty("body").GetString()).Order().ToList();
        Assert.Equal(["Hello Ada", "Hello friend"], received);
    }

    [Fact]
    public async Task An_unknown_content_id_is_refused_and_nothing_is_made()
    {
        await CreateSenderAsync(_client, "+14155550161", 1000);
        var before = (await _client.GetFromJsonAsync<JsonElement>("/v1/Messages/Operations?pageSize=1000")).GetProperty("operations").GetArrayLength();

        var response = await _client.PostAsJsonAsync("/v1/Messages", new
        {
            from = new { address = "+14155550161", channel = "SMS" },
            to = new[] { new { address = Number(9200) } },
            content = new { contentId = "cnt_0000000000001" },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("content", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, (await _client.GetFromJsonAsync<JsonElement>("/v1/Messages/Operations?pageSize=1000")).GetProperty("operations").GetArrayLength());
    }

    [Fact]
    public async Task A_group_used_by_an_unfinished_operation_cannot_be_deleted_until_it_ends()
    {
        await CreateSenderAsync(_client, "+14155550162", 1000);
        var group = await InsertGroupAsync(_app.Settings.ConnectionString(_app), [(Number(9300), "{}"), (Number(9301), "{}")], "In use");
        var id = await SendAsync(_client, new
        {
            from = new { address = "+14155550162", channel = "SMS" },
            to = new[] { new { groupId = group } },
            content = new { text = "Later" },
            schedule = new { sendAt = new[] { DateTimeOffset.UtcNow.AddHours(2).ToString("O") } },
        });

        var refused = await _client.DeleteAsync($"/v1/Groups/{group}");
        await _client.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null);
        var allowed = await _client.DeleteAsync($"/v1/Groups/{group}");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
    }

    [Fact]
    public async Task The_messages_export_lists_every_message_with_its_status_and_escapes_formula_cells()
    {
        await CreateSenderAsync(_client, "+14155550163", 1000);
        var id = await SendAsync(_client, new
        {
            from = new { address = "+14155550163", channel = "SMS" },
            to = new[] { new { address = Number(9400) }, new { address = Number(9401) } },
            content = new { text = "=HYPERLINK(\"x\")" },
        });
        await WaitForStatusAsync(_client, id, "COMPLETED");

        var bytes = await (await _client.GetAsync($"/campaigns/{id}/messages.csv")).Content.ReadAsByteArrayAsync();
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]); // a byte-order mark, so Excel reads UTF-8
        var csv = System.Text.Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3);
        var signedOut = await _app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false })
            .GetAsync($"/campaigns/{id}/messages.csv");

        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("id,address,channel,status", lines[0], StringComparison.Ordinal);
        Assert.All(lines.Skip(1), l => Assert.Contains("'=HYPERLINK", l, StringComparison.Ordinal));
        Assert.NotEqual(HttpStatusCode.OK, signedOut.StatusCode);
    }
}
