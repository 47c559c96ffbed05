using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Auth;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Auth;

/// <summary>Failed API-key authentications: no hint of which SIDs exist, and no guessing at full speed.</summary>
public sealed class ApiKeyAuthFailureTests(ApiKeyAuthFailureTests.App app) : IClassFixture<ApiKeyAuthFailureTests.App>
{
    public sealed class App : ForwardedAppFactory
    {
        public App()
        {
            Settings["Api:AuthFailures:PerAddress"] = "5";
            Settings["Api:AuthFailures:Window"] = "00:10:00";
        }
    }

    private HttpClient ClientAt(string address, string sid, string secret)
    {
        var client = app.CreateApiClient(sid, secret);
        client.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        return client;
    }

    [Fact]
    public async Task An_unknown_sid_costs_a_secret_verification_like_a_wrong_secret_for_a_real_one()
    {
        var keys = app.Services.GetRequiredService<ApiKeyService>();
        app.CreateClient().Dispose();

        var before = keys.Verifications;
        Assert.Equal(HttpStatusCode.Unauthorized, (await ClientAt("192.0.2.41", "SKnosuchkey0000000000000000000000", "guess").GetAsync("/v1/Groups")).StatusCode);
        var forUnknown = keys.Verifications - before;
        before = keys.Verifications;
        Assert.Equal(HttpStatusCode.Unauthorized, (await ClientAt("192.0.2.42", AppFactory.ApiKeySid, "guess").GetAsync("/v1/Groups")).StatusCode);
        var forWrongSecret = keys.Verifications - before;

        Assert.Equal(1, forWrongSecret);
        Assert.Equal(forWrongSecret, forUnknown);
    }

    [Fact]
    public async Task Failed_authentications_from_one_address_get_429_with_Retry_After_and_other_addresses_are_not_affected()
    {
        const string guesser = "203.0.113.90";
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await ClientAt(guesser, AppFactory.ApiKeySid, $"guess-{i}").GetAsync("/v1/Groups")).StatusCode);
        }

        var refused = await ClientAt(guesser, AppFactory.ApiKeySid, AppFactory.ApiKeySecret).GetAsync("/v1/Groups");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After in seconds");
        var error = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(429, error.GetProperty("status").GetInt32());
        Assert.Equal(20429, error.GetProperty("code").GetInt32());
        Assert.Contains("Retry-After", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        var elsewhere = await ClientAt("198.51.100.90", AppFactory.ApiKeySid, AppFactory.ApiKeySecret).GetAsync("/v1/Groups");
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
    }
}
