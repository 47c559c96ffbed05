using System.Net;
using BulkCampaigns.Auth;
using BulkCampaigns.Data;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Auth;

/// <summary>The first-run page, driven with raw HTTP posts as an attacker would: never a second admin.</summary>
public sealed class FirstRunSetupTests
{
    private static Dictionary<string, string> SetupFields(string email, string password) => new()
    {
        ["Input.Email"] = email,
        ["Input.Password"] = password,
        ["Input.Confirm"] = password,
    };

    private static async Task<List<string>> EmailsAsync(AppFactory app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AppDbContext>().Users.Select(u => u.Email!).ToListAsync();
    }

    [Fact]
    public async Task A_setup_post_on_an_installed_app_creates_no_admin_and_signs_no_one_in()
    {
        using var app = new AppFactory();
        var client = FormPosts.NewClient(app);
        var token = await FormPosts.TokenFromAsync(client, "/login"); // any visitor gets one

        var response = await FormPosts.PostFormAsync(client, "/setup", "setup", token, SetupFields("intruder@example.com", "intruder-pass-123"));

        Assert.False(FormPosts.SetsAuthCookie(response), "the post must not sign anyone in");
        Assert.Equal([AppFactory.AdminEmail], await EmailsAsync(app));
        // And the visitor is not signed in afterwards either.
        var settings = await client.GetAsync("/settings");
        Assert.Equal(HttpStatusCode.Redirect, settings.StatusCode);
        Assert.Contains("/login", settings.Headers.Location?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_first_admin_step_creates_nothing_once_a_user_exists()
    {
        using var app = new AppFactory();
        app.CreateClient().Dispose();
        await using var scope = app.Services.CreateAsyncScope();

        var result = await scope.ServiceProvider.GetRequiredService<FirstAdminSetup>().CreateFirstAdminAsync("intruder@example.com", "intruder-pass-123");

        Assert.Null(result);
        Assert.Equal([AppFactory.AdminEmail], await EmailsAsync(app));
    }

    [Fact]
    public async Task Several_first_run_posts_at_the_same_moment_make_exactly_one_admin()
    {
        using var app = new FreshInstallAppFactory();
        var visitors = new List<(HttpClient Client, string Token, string Email)>();
        for (var i = 0; i < 4; i++)
        {
            var client = FormPosts.NewClient(app);
            visitors.Add((client, await FormPosts.TokenFromAsync(client, "/setup"), $"owner{i}@example.com"));
        }

        var responses = await Task.WhenAll(visitors.Select(v =>
            FormPosts.PostFormAsync(v.Client, "/setup", "setup", v.Token, SetupFields(v.Email, "first-admin-passphrase"))));

        var emails = await EmailsAsync(app);
        Assert.Single(emails);
        Assert.Single(responses, FormPosts.SetsAuthCookie);
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        Assert.True(await users.IsInRoleAsync((await users.FindByEmailAsync(emails[0]))!, Roles.Admin));
    }

    [Fact]
    public async Task Creating_the_first_admin_from_many_requests_at_once_succeeds_for_exactly_one()
    {
        using var app = new FreshInstallAppFactory();
        app.CreateClient().Dispose(); // start: migrate, make the roles

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            await Task.Yield();
            await using var scope = app.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<FirstAdminSetup>().CreateFirstAdminAsync($"racer{i}@example.com", "first-admin-passphrase");
        }));

        Assert.Single(results, r => r is { Succeeded: true });
        Assert.Equal(7, results.Count(r => r is null));
        Assert.Single(await EmailsAsync(app));
    }

    [Fact]
    public async Task The_first_admin_needs_a_password_of_at_least_12_characters()
    {
        using var app = new FreshInstallAppFactory();
        var client = FormPosts.NewClient(app);
        var token = await FormPosts.TokenFromAsync(client, "/setup");

        var response = await FormPosts.PostFormAsync(client, "/setup", "setup", token, SetupFields("owner@example.com", "abcdefgh"));

        Assert.False(FormPosts.SetsAuthCookie(response));
        Assert.Empty(await EmailsAsync(app));
        Assert.Contains("at least 12 characters", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
