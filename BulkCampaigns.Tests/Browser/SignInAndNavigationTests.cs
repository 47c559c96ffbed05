using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

[Trait(DatabaseTrait.Name, DatabaseTrait.PagesOnly)]
[Collection(BrowserCollection.Name)]
public sealed class NavigationTests(BrowserApp browser)
{
    public static TheoryData<string, string> NavigationItems => new()
    {
        { "Recipients", "/recipients" },
        { "Content", "/content" },
        { "Campaigns", "/campaigns" },
        { "Senders", "/senders" },
        { "Suppressions", "/suppressions" },
        { "Simulator", "/simulator" },
        { "Settings", "/settings" },
        { "Dashboard", "/" },
    };

    [Fact]
    public async Task Every_navigation_item_opens_its_page_without_browser_errors()
    {
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        foreach (var (name, path) in NavigationItems.Select(row => ((string)row[0], (string)row[1])))
        {
            await page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).ClickAsync();
            await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == path);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 }).First).ToBeVisibleAsync();
        }
        Assert.Empty(session.ConsoleErrors);
    }

    [Fact]
    public async Task A_page_that_does_not_exist_shows_the_friendly_404()
    {
        await using var session = await browser.SignedInPageAsync();

        await session.Page.GotoAsync("/no/such/page");

        await Assertions.Expect(session.Page.GetByText("This page doesn't exist")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_signed_out_visitor_is_sent_to_the_sign_in_page_and_a_wrong_password_is_explained()
    {
        await using var session = await browser.NewPageAsync();
        var page = session.Page;

        await page.GotoAsync("/campaigns");
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        await page.GetByLabel("Email").FillAsync(AppFactory.AdminEmail);
        await page.GetByLabel("Password").FillAsync("not-the-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("don't match");
    }

    [Fact]
    public async Task Signing_out_ends_the_session()
    {
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("/login", StringComparison.Ordinal));
        await page.GotoAsync("/settings");

        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_theme_choice_is_remembered_across_a_reload()
    {
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;

        var lightBackground = await MainBackgroundAsync(page);
        await page.GetByLabel("Toggle dark theme").ClickAsync();
        await page.WaitForFunctionAsync("() => localStorage.getItem('bulkcampaigns.theme') === 'dark'");
        await page.ReloadAsync();
        await session.WaitForInteractiveAsync();

        await page.WaitForFunctionAsync($"() => getComputedStyle(document.body).backgroundColor !== '{lightBackground}'");
        Assert.NotEqual(lightBackground, await MainBackgroundAsync(page));
    }

    private static Task<string> MainBackgroundAsync(IPage page) =>
        page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor");
}

[Trait(DatabaseTrait.Name, DatabaseTrait.PagesOnly)]
public sealed class FirstRunSetupTests(FreshInstallBrowserApp browser) : IClassFixture<FreshInstallBrowserApp>
{
    [Fact]
    public async Task The_first_visitor_creates_the_admin_on_the_setup_page_and_is_signed_in_then_setup_closes()
    {
        await using var session = await browser.NewPageAsync();
        var page = session.Page;

        await page.GotoAsync("/");
        await page.WaitForURLAsync(url => url.Contains("/setup", StringComparison.Ordinal));
        await page.GetByLabel("Email").FillAsync("owner@example.com");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync("first-admin-pass");
        await page.GetByLabel("Confirm password").FillAsync("first-admin-pass");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create admin and sign in" }).ClickAsync();
        await session.WaitForInteractiveAsync();

        await Assertions.Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync("owner@example.com");
        Directory.CreateDirectory(DocsFolder);
        await session.ScreenshotAsync(Path.Combine(DocsFolder, "screenshot.png"));

        await page.GotoAsync("/setup");
        Assert.DoesNotContain("/setup", new Uri(page.Url).AbsolutePath, StringComparison.Ordinal);
        Assert.Empty(session.ConsoleErrors);
    }

    private static string DocsFolder => Path.Combine(RepositoryRoot(), "docs");

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BulkCampaigns.sln")))
            {
                return dir.FullName;
            }
        }
        return AppContext.BaseDirectory;
    }
}
