using System.Net;
using System.Text.RegularExpressions;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace BulkCampaigns.Tests.Auth;

/// <summary>
/// Drives the app's sign-in, setup and sign-out forms with raw HTTP, as a script (or a browser) would:
/// fetch a page for its antiforgery token and cookie, then post the form fields.
/// </summary>
public static partial class FormPosts
{
    public const string AuthCookie = "bulkcampaigns.auth";

    public static HttpClient NewClient(AppFactory app, string baseAddress = "http://localhost") =>
        app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true, BaseAddress = new Uri(baseAddress) });

    /// <summary>The antiforgery token of the form on <paramref name="path"/> (its cookie is kept by the client).</summary>
    public static async Task<string> TokenFromAsync(HttpClient client, string path, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }
        using var response = await client.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();
        var match = TokenPattern().Match(html);
        Assert.True(match.Success, $"no antiforgery token on {path} ({(int)response.StatusCode})");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, string handler, string token, Dictionary<string, string> fields, string? forwardedFor = null)
    {
        var form = new Dictionary<string, string>(fields) { ["_handler"] = handler, ["__RequestVerificationToken"] = token };
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }
        return await client.SendAsync(request);
    }

    /// <summary>Posts the sign-in form from a fresh client (its own cookies), optionally as another client address.</summary>
    public static async Task<HttpResponseMessage> SignInAsync(AppFactory app, string email, string password, string? forwardedFor = null)
    {
        var client = NewClient(app);
        var token = await TokenFromAsync(client, "/login", forwardedFor);
        return await PostFormAsync(client, "/login", "login", token, new() { ["Input.Email"] = email, ["Input.Password"] = password }, forwardedFor);
    }

    /// <summary>A client signed in through the real form.</summary>
    public static async Task<HttpClient> SignedInClientAsync(AppFactory app, string email, string password)
    {
        var client = NewClient(app);
        var token = await TokenFromAsync(client, "/login");
        var response = await PostFormAsync(client, "/login", "login", token, new() { ["Input.Email"] = email, ["Input.Password"] = password });
        Assert.True(SetsAuthCookie(response), $"sign-in of {email} failed");
        return client;
    }

    public static bool SetsAuthCookie(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies) &&
        cookies.Any(c => c.StartsWith(AuthCookie + "=", StringComparison.Ordinal) && !c.StartsWith(AuthCookie + "=;", StringComparison.Ordinal));

    /// <summary>The page's text in the alert role (the sign-in or setup error), or null.</summary>
    public static string? Alert(string html) => AlertPattern().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value.Trim()) : null;

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    public static partial Regex TokenPattern();

    [GeneratedRegex("role=\"alert\"[^>]*>([^<]*)<")]
    private static partial Regex AlertPattern();
}

/// <summary>An app that reads the client's address from X-Forwarded-For, as behind a reverse proxy.</summary>
public class ForwardedAppFactory : AppFactory
{
    public ForwardedAppFactory() => Settings["ForwardedHeaders_Enabled"] = "true";
}

/// <summary>An app nobody has set up yet: no bootstrap admin.</summary>
public sealed class FreshInstallAppFactory : AppFactory
{
    public FreshInstallAppFactory()
    {
        Settings["Bootstrap:AdminEmail"] = "";
        Settings["Bootstrap:AdminPassword"] = "";
    }
}
