using System.Net;
using System.Text.RegularExpressions;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Postgres;

/// <summary>The data-protection key ring lives in the database, on both providers: a sign-in outlives a restart.</summary>
public sealed partial class KeyRingTests
{
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_sign_in_cookie_still_works_after_the_app_process_restarts(TestProvider provider)
    {
        using var database = TestDatabase.Create(provider);
        var cookies = new CookieContainer();
        int port;
        using (var first = AppProcess.Start(database))
        {
            await first.WaitHealthyAsync();
            port = first.Port;
            using var browser = Browser(port, cookies);
            var form = await browser.GetStringAsync("/login");
            var signIn = await browser.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "login",
                ["__RequestVerificationToken"] = Token().Match(form).Groups[1].Value,
                ["Input.Email"] = AppFactory.AdminEmail,
                ["Input.Password"] = AppFactory.AdminPassword,
            }));
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/settings")).StatusCode);
            first.Terminate();
            await first.Process.WaitForExitAsync();
        }
        Assert.True(await database.CountAsync("""SELECT COUNT(*) FROM "DataProtectionKeys" """) >= 1, "the key is kept in the database");

        using var second = AppProcess.Start(database, port);
        await second.WaitHealthyAsync();
        using var again = Browser(port, cookies);

        var page = await again.GetAsync("/settings");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode); // not a redirect to /login: the cookie is read with the kept key
    }

    private static HttpClient Browser(int port, CookieContainer cookies) =>
        new(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
