using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Api;

public sealed class ApiAuthTests : IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public ApiAuthTests(AppFactory app) => _app = app;

    [Fact]
    public async Task Healthz_answers_200_when_the_database_answers()
    {
        var response = await _app.CreateClient().GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await _app.Database.CountAsync("""SELECT COUNT(*) FROM "AspNetUsers" """) >= 1, "the app should use the configured database");
    }

    [Fact]
    public async Task A_v1_call_without_credentials_gets_401_with_a_basic_challenge_in_the_error_format()
    {
        var response = await _app.CreateClient().GetAsync("/v1/Groups");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Basic", response.Headers.WwwAuthenticate.Single().Scheme);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(401, error.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task A_wrong_secret_is_refused_with_401()
    {
        var client = _app.CreateApiClient(AppFactory.ApiKeySid, "wrong");

        var response = await client.GetAsync("/v1/Groups");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task The_bootstrap_key_is_accepted_and_an_unknown_route_answers_404_in_the_error_format()
    {
        var response = await _app.CreateApiClient().GetAsync("/v1/NoSuchThing");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(404, error.GetProperty("status").GetInt32());
        Assert.Equal(20404, error.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task The_openapi_document_is_served()
    {
        var doc = await _app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        Assert.Equal("BulkCampaigns API", doc.GetProperty("info").GetProperty("title").GetString());
    }
}
