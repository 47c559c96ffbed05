using System.Net;
using BulkCampaigns.Tests.Auth;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace BulkCampaigns.Tests.Hosting;

public sealed class SecurityHeadersTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Theory]
    [InlineData("/login")]
    [InlineData("/healthz")]
    [InlineData("/v1/Groups")] // a 401 in the API's error format
    [InlineData("/no/such/page")]
    public async Task Every_answer_forbids_type_sniffing_and_limits_the_referrer(string path)
    {
        var response = await FormPosts.NewClient(app).GetAsync(path);

        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("strict-origin-when-cross-origin", Header(response, "Referrer-Policy"));
        Assert.Equal("SAMEORIGIN", Header(response, "X-Frame-Options"));
    }

    [Fact]
    public async Task The_jobs_dashboard_may_not_be_framed_at_all()
    {
        var client = await FormPosts.SignedInClientAsync(app, AppFactory.AdminEmail, AppFactory.AdminPassword);

        var response = await client.GetAsync("/hangfire");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Contains("frame-ancestors 'none'", Header(response, "Content-Security-Policy"), StringComparison.Ordinal);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
    }

    [Fact]
    public async Task The_antiforgery_cookie_is_secure_over_https_and_only_then()
    {
        var overHttps = await FormPosts.NewClient(app, "https://bulk.example.com").GetAsync("/login");
        var overHttp = await FormPosts.NewClient(app, "http://bulk.example.com").GetAsync("/login");

        Assert.Contains("secure", AntiforgeryCookie(overHttps).ToLowerInvariant(), StringComparison.Ordinal);
        Assert.DoesNotContain("secure", AntiforgeryCookie(overHttp).ToLowerInvariant(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sign_in_cookie_is_secure_over_https()
    {
        var client = FormPosts.NewClient(app, "https://bulk.example.com");
        var token = await FormPosts.TokenFromAsync(client, "/login");

        var response = await FormPosts.PostFormAsync(client, "/login", "login", token,
            new() { ["Input.Email"] = AppFactory.AdminEmail, ["Input.Password"] = AppFactory.AdminPassword });

        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(FormPosts.AuthCookie + "=", StringComparison.Ordinal));
        Assert.Contains("secure", cookie.ToLowerInvariant(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_production_https_answers_carry_HSTS_and_plain_http_ones_do_not()
    {
        using var production = new ProductionAppFactory();

        var overHttps = await FormPosts.NewClient(production, "https://bulk.example.com").GetAsync("/healthz");
        var overHttp = await FormPosts.NewClient(production, "http://bulk.example.com").GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, overHttps.StatusCode);
        Assert.StartsWith("max-age=", Header(overHttps, "Strict-Transport-Security"), StringComparison.Ordinal);
        Assert.False(overHttp.Headers.Contains("Strict-Transport-Security"));
    }

    private static string AntiforgeryCookie(HttpResponseMessage response) =>
        response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Antiforgery.", StringComparison.Ordinal));

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : throw new Xunit.Sdk.XunitException($"{name} missing on {response.RequestMessage?.RequestUri} ({(int)response.StatusCode})");

    private sealed class ProductionAppFactory : AppFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Production");
        }
    }
}
