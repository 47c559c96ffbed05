using System.Net;
using BulkCampaigns.Auth;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Infrastructure;

public static class SignIn
{
    /// <summary>A client signed in through the real /login form, antiforgery token included; it keeps the cookie.</summary>
    public static async Task<HttpClient> SignedInClientAsync(this AppFactory app, string email, string password)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var form = await client.GetStringAsync("/login");
        var token = System.Text.RegularExpressions.Regex.Match(form, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var response = await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = token,
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    /// <summary>Makes a user of <paramref name="role"/> (if not there yet) and signs them in.</summary>
    public static async Task<HttpClient> SignedInAsAsync(this AppFactory app, string role)
    {
        var email = $"{role.ToLowerInvariant()}@example.com";
        const string password = "role-pass-123";
        using (var scope = app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            if (await users.FindByEmailAsync(email) is null)
            {
                await Bootstrap.CreateUserAsync(users, email, password, role);
            }
        }
        return await app.SignedInClientAsync(email, password);
    }
}
