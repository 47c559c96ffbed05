using BulkCampaigns.Auth;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Auth;

/// <summary>At least 12 characters wherever a password is set: setup (FirstRunSetupTests), the users panel, the bootstrap settings.</summary>
public sealed class PasswordRuleTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Theory]
    [InlineData("lowercase")]
    [InlineData("elevenchars")]
    [InlineData("aaaaaaaaaaaaaaaa")]
    public async Task A_weak_password_for_a_new_user_is_refused_with_a_plain_reason(string password)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();

        var result = await Bootstrap.CreateUserAsync(users, $"weak.{password.Length}.{password[0]}@example.com", password, Roles.Admin);

        Assert.False(result.Succeeded);
        Assert.Matches("at least (12|4 different) characters", string.Join(" ", result.Errors.Select(e => e.Description)));
    }

    [Fact]
    public async Task Adding_a_user_whose_email_is_taken_says_so_once_in_plain_words()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        Assert.True((await Bootstrap.CreateUserAsync(users, "taken@example.com", "plain words!", Roles.Marketer)).Succeeded);

        var again = await Bootstrap.CreateUserAsync(users, "taken@example.com", "other words!!", Roles.Viewer);

        Assert.False(again.Succeeded);
        Assert.Equal("There is already a user with the email taken@example.com: change their role in the list, or use another email.", Bootstrap.Describe(again));
    }

    [Fact]
    public async Task Twelve_characters_are_enough()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();

        var result = await Bootstrap.CreateUserAsync(users, "twelve@example.com", "plain words!", Roles.Marketer);

        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
    }

    [Fact]
    public void A_short_bootstrap_admin_password_stops_the_start_with_a_clear_error()
    {
        using var weak = new AppFactory();
        weak.Settings["Bootstrap:AdminPassword"] = "password";

        var error = Assert.ThrowsAny<Exception>(() => weak.CreateClient());

        var message = error.GetBaseException().Message + error.Message;
        Assert.Contains("Bootstrap:AdminPassword", message, StringComparison.Ordinal);
        Assert.Contains("at least 12 characters", message, StringComparison.Ordinal);
    }
}
