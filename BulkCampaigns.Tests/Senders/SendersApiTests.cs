using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Senders;

public sealed class SendersApiTests : IClassFixture<AppFactory>, IDisposable
{
    private readonly HttpClient _client;

    public SendersApiTests(AppFactory app) => _client = app.CreateApiClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task A_sender_is_created_listed_fetched_given_a_new_MPS_and_deleted()
    {
        var created = await _client.PostAsJsonAsync("/v1/Senders", new { address = "(415) 555-0188", channel = "SMS", mps = 10 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var sender = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = sender.GetProperty("id").GetString()!;
        Assert.StartsWith("snd_", id);
        Assert.Equal("+14155550188", sender.GetProperty("address").GetString());
        Assert.Equal($"/v1/Senders/{id}", created.Headers.Location!.ToString());

        var list = await _client.GetFromJsonAsync<JsonElement>("/v1/Senders");
        Assert.Contains(list.GetProperty("senders").EnumerateArray(), s => s.GetProperty("id").GetString() == id);

        var patched = await _client.PatchAsJsonAsync($"/v1/Senders/{id}", new { mps = 20 });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(20, (await _client.GetFromJsonAsync<JsonElement>($"/v1/Senders/{id}")).GetProperty("mps").GetInt32());

        Assert.Equal(HttpStatusCode.Conflict, (await _client.PostAsJsonAsync("/v1/Senders", new { address = "+14155550188", channel = "SMS", mps = 5 })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/v1/Senders/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/v1/Senders/{id}")).StatusCode);
    }

    [Fact]
    public async Task A_bad_sender_lists_every_problem()
    {
        var response = await _client.PostAsJsonAsync("/v1/Senders", new { address = "+12ab", channel = "PIGEON", mps = 0 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        var fields = error.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Equal(["address", "channel", "mps"], fields);
    }

    [Theory]
    [InlineData("+15551230000", "+15551230000")] // the contract's example: well-formed E.164 the carrier will check
    [InlineData("(415) 555-0123", "+14155550123")] // a national number, normalized
    [InlineData("12345", "12345")] // a short code
    [InlineData("ACME Shop", "ACME Shop")] // an alphanumeric sender ID
    public async Task A_sender_may_be_a_number_a_short_code_or_an_alphanumeric_id(string address, string stored)
    {
        var response = await _client.PostAsJsonAsync("/v1/Senders", new { address, channel = "SMS", mps = 5 });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(stored, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("address").GetString());
    }

    [Fact]
    public async Task Senders_are_listed_page_by_page_each_once()
    {
        for (var i = 0; i < 3; i++)
        {
            await _client.PostAsJsonAsync("/v1/Senders", new { address = $"+1415555{i + 300:D4}", channel = "SMS", mps = 1 });
        }

        var ids = new List<string>();
        string? next = "/v1/Senders?pageSize=2";
        while (next is not null)
        {
            var page = await _client.GetFromJsonAsync<JsonElement>(next);
            ids.AddRange(page.GetProperty("senders").EnumerateArray().Select(s => s.GetProperty("id").GetString()!));
            next = page.GetProperty("pagination").GetProperty("next").GetString();
        }

        Assert.True(ids.Count >= 3);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
