using System.Net;
using BulkCampaigns.Auth;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Jobs;

public sealed class HangfireDashboardTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task A_signed_out_visitor_is_sent_to_sign_in()
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var response = await client.GetAsync("/hangfire");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("/login", response.Headers.Location?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_admin_sees_the_jobs_dashboard()
    {
        var client = await app.SignedInClientAsync(AppFactory.AdminEmail, AppFactory.AdminPassword);

        var response = await client.GetAsync("/hangfire");

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Contains("BulkCampaigns jobs", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_marketer_may_not_open_the_jobs_dashboard()
    {
        using (var scope = app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            await Bootstrap.CreateUserAsync(users, "marketer@example.com", "marketer-pass", Roles.Marketer);
        }
        var client = await app.SignedInClientAsync("marketer@example.com", "marketer-pass");

        var response = await client.GetAsync("/hangfire");

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("BulkCampaigns jobs", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
