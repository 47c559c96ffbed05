using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Api;

/// <summary>The app behind a proxy that sends X-Forwarded-Proto, with the forwarded headers switched on.</summary>
public sealed class ForwardedApp : AppFactory
{
    public ForwardedApp() => Settings["FORWARDEDHEADERS_ENABLED"] = "true";
}

public sealed class PageLinkTests(ForwardedApp app) : IClassFixture<ForwardedApp>
{
    [Fact]
    public async Task Next_and_self_are_absolute_URLs_a_client_can_follow_as_they_are()
    {
        var client = app.CreateApiClient();
        for (var i = 0; i < 3; i++)
        {
            (await client.PostAsJsonAsync("/v1/Groups", new { name = $"Linked {i}" })).EnsureSuccessStatusCode();
        }
        var first = await client.GetFromJsonAsync<JsonElement>("/v1/Groups?pageSize=2");
        var pagination = first.GetProperty("pagination");
        Assert.Equal("http://localhost/v1/Groups?pageSize=2", pagination.GetProperty("self").GetString());
        var next = pagination.GetProperty("next").GetString()!;
        Assert.StartsWith("http://localhost/v1/Groups?pageSize=2&pageToken=", next, StringComparison.Ordinal);
        Assert.True(Uri.TryCreate(next, UriKind.Absolute, out _));

        var second = await client.GetFromJsonAsync<JsonElement>(new Uri(next));
        Assert.NotEqual(first.GetProperty("groups")[0].GetProperty("id").GetString(), second.GetProperty("groups")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task Behind_a_proxy_the_links_carry_the_scheme_the_client_used()
    {
        var client = app.CreateApiClient();
        for (var i = 0; i < 3; i++)
        {
            (await client.PostAsJsonAsync("/v1/Groups", new { name = $"Proxied {i}" })).EnsureSuccessStatusCode();
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/Groups?pageSize=1");
        request.Headers.Add("X-Forwarded-Proto", "https");
        var page = await (await client.SendAsync(request)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("https://localhost/v1/Groups?pageSize=1&pageToken=", page.GetProperty("pagination").GetProperty("next").GetString(), StringComparison.Ordinal);
        Assert.Equal("https://localhost/v1/Groups?pageSize=1", page.GetProperty("pagination").GetProperty("self").GetString());
    }
}
