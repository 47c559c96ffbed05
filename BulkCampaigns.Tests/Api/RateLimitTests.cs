using System.Net;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Api;

public sealed class RateLimitTests : IDisposable
{
    private readonly AppFactory _app = new();

    public RateLimitTests()
    {
        _app.Settings["Api:RateLimit:PermitsPerSecond"] = "1";
        _app.Settings["Api:RateLimit:Burst"] = "3";
    }

    [Fact]
    public async Task A_key_past_its_burst_gets_429_with_Retry_After_while_another_caller_is_not_affected()
    {
        var client = _app.CreateApiClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((await client.GetAsync("/v1/NoSuchThing")).StatusCode);
        }
        var limited = await client.GetAsync("/v1/NoSuchThing");

        Assert.Contains(HttpStatusCode.NotFound, statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Contains("20429", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _app.CreateClient().GetAsync("/healthz")).StatusCode);
    }

    public void Dispose() => _app.Dispose();
}
