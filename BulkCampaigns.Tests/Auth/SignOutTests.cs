using System.Net;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Auth;

/// <summary>Another site must not be able to sign a user out with a hidden form.</summary>
public sealed class SignOutTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task A_sign_out_post_without_the_antiforgery_token_does_not_sign_out()
    {
        var client = await FormPosts.SignedInClientAsync(app, AppFactory.AdminEmail, AppFactory.AdminPassword);

        var response = await client.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string>()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith(FormPosts.AuthCookie, StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/settings")).StatusCode);
    }

    [Fact]
    public async Task The_sign_out_form_of_the_layout_signs_out()
    {
        var client = await FormPosts.SignedInClientAsync(app, AppFactory.AdminEmail, AppFactory.AdminPassword);
        var token = await FormPosts.TokenFromAsync(client, "/settings"); // the layout's Sign out form

        var response = await client.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var after = await client.GetAsync("/settings");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Contains("/login", after.Headers.Location?.ToString(), StringComparison.Ordinal);
    }
}
