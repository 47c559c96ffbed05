using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Suppressions;

public class SuppressionsApiTests(AppFactory app) : IClassFixture<AppFactory>
{
    private readonly HttpClient _client = app.CreateApiClient();

    [Fact]
    public async Task An_address_can_be_suppressed_listed_searched_and_removed()
    {
        var added = await _client.PostAsJsonAsync("/v1/Suppressions", new { address = "(201) 555-0171", reason = "asked by phone" });
        var again = await _client.PostAsJsonAsync("/v1/Suppressions", new { address = "+12015550171" });

        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Equal("+12015550171", (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("address").GetString());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        // Not +120155501: the class shares its app, and the CSV test suppresses +12015550181 (test order varies by class).
        var found = await _client.GetFromJsonAsync<JsonElement>("/v1/Suppressions?search=%2B1201555017");
        var item = Assert.Single(found.GetProperty("suppressions").EnumerateArray());
        Assert.Equal("asked by phone", item.GetProperty("reason").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync("/v1/Suppressions/%2B12015550171")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.DeleteAsync("/v1/Suppressions/%2B12015550171")).StatusCode);
    }

    [Fact]
    public async Task A_bad_address_is_refused_with_the_reason()
    {
        var response = await _client.PostAsJsonAsync("/v1/Suppressions", new { address = "12ab" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("address", error.GetProperty("errors")[0].GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_suppression_csv_adds_its_good_addresses_and_reports_the_bad_rows()
    {
        var csv = "phone,reason\n2015550181,STOP reply\n+447911123456,\nnope,x\n2015550181,twice\n";

        var response = await _client.PostAsync("/v1/Suppressions/Imports", new StringContent(csv, Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, result.GetProperty("added").GetInt64());
        Assert.Equal(1, result.GetProperty("alreadySuppressed").GetInt64());
        var error = Assert.Single(result.GetProperty("errors").EnumerateArray());
        Assert.Equal(4, error.GetProperty("line").GetInt32());
        Assert.Equal("nope", error.GetProperty("value").GetString());
        var stop = await _client.GetFromJsonAsync<JsonElement>("/v1/Suppressions/%2B12015550181");
        Assert.Equal("STOP reply", stop.GetProperty("reason").GetString());
        Assert.Equal("import", stop.GetProperty("source").GetString());
    }
}
