using System.Net;
using System.Text.RegularExpressions;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Postgres;

/// <summary>
/// The data-protection key ring lives in the database, on both providers: a sign-in outlives a restart that keeps
/// nothing but the database.
/// </summary>
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

        // The restarted app keeps only the database: another home folder (ASP.NET's default key ring lives in
        // ~/.aspnet) and another data folder (where keys used to be files). A key kept anywhere but the database
        // is lost, and the cookie with it.
        var home = Path.Combine(database.Folder, "another-home");
        Directory.CreateDirectory(home);
        var settings = new Dictionary<string, string> { ["HOME"] = home };
        using var second = provider == TestProvider.Sqlite
            ? AppProcess.Start(MoveSqliteFile(database.SqlitePath, Path.Combine(database.Folder, "another-data")), port, settings)
            : AppProcess.Start(database, port, new Dictionary<string, string>(settings) { ["Database:DataFolder"] = Path.Combine(database.Folder, "another-data") });
        await second.WaitHealthyAsync();
        using var again = Browser(port, cookies);

        var page = await again.GetAsync("/settings");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode); // not a redirect to /login: the cookie is read with the kept key
    }

    /// <summary>Moves the database file (and its WAL, if any) alone into a fresh folder; answers its new path.</summary>
    private static string MoveSqliteFile(string path, string folder)
    {
        Directory.CreateDirectory(folder);
        var moved = Path.Combine(folder, Path.GetFileName(path));
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            if (File.Exists(path + suffix))
            {
                File.Move(path + suffix, moved + suffix);
            }
        }
        return moved;
    }

    private static HttpClient Browser(int port, CookieContainer cookies) =>
        new(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
