using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Infrastructure;

/// <summary>
/// The app on a real port (Kestrel) and Debian's Chromium driven by Playwright. Playwright cannot download
/// its own browser here, so it launches the machine's <c>chromium</c> (installed by <c>.ci/run</c>).
/// Browser console errors are collected so a test can assert a page has none.
/// </summary>
public class BrowserApp : IAsyncLifetime
{
    public AppFactory App { get; } = new();

    /// <summary>Lets a subclass change settings before the app starts.</summary>
    protected virtual void Configure(AppFactory app)
    {
    }
    public string BaseUrl { get; private set; } = "";
    public IBrowser Browser { get; private set; } = default!;
    private IPlaywright _playwright = default!;

    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        // A circuit's error reaches the browser console whole, so a test that finds one says what it was.
        App.Settings["DetailedErrors"] = "true";
        Configure(App);
        App.UseKestrel(0);
        App.StartServer();
        BaseUrl = App.ClientOptions.BaseAddress.ToString().TrimEnd('/');
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });
    }

    /// <summary>
    /// A new browser context (its own cookies) with a page whose console errors are recorded; the browser says it is
    /// in <paramref name="timeZoneId"/> (an IANA id) when one is given, else in the machine's zone.
    /// </summary>
    public async Task<BrowserPage> NewPageAsync(string? timeZoneId = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl, ViewportSize = new ViewportSize { Width = 1360, Height = 860 }, TimezoneId = timeZoneId, Locale = "en-US" });
        // Generous: on a shared 2-core machine a busy moment can stall a page for seconds; a passing step does not wait for it.
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        var result = new BrowserPage(context, page);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                result.ConsoleErrors.Add($"{message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => result.ConsoleErrors.Add(error);
        return result;
    }

    /// <summary>A page already signed in as the bootstrap admin (or the given user).</summary>
    public async Task<BrowserPage> SignedInPageAsync(string? timeZoneId = null, string email = AppFactory.AdminEmail, string password = AppFactory.AdminPassword)
    {
        var browserPage = await NewPageAsync(timeZoneId);
        var page = browserPage.Page;
        await page.GotoAsync("/login");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // The address, not the load event: what a signed-in user needs is the next page's circuit, waited for below
        // (and explained if it never comes).
        await BrowserSteps.WaitForAddressAsync(page, url => !url.Contains("/login", StringComparison.Ordinal), "Leaving the sign-in page after signing in", 30);
        await browserPage.WaitForInteractiveAsync();
        return browserPage;
    }

    public virtual async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await App.DisposeAsync();
    }
}

public sealed class BrowserPage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IPage Page { get; } = page;
    public List<string> ConsoleErrors { get; } = [];

    /// <summary>Waits until Blazor's circuit is connected, so clicks reach the server.</summary>
    public async Task WaitForInteractiveAsync()
    {
        try
        {
            await Page.WaitForFunctionAsync("() => window.Blazor && document.querySelector('.mud-layout') && window.bulkCampaigns?.circuitUp === true");
        }
        catch (TimeoutException e)
        {
            // Say where the page got to: still loading the document, loaded without Blazor, or loaded with no circuit.
            string state;
            try
            {
                state = await Page.EvaluateAsync<string>("() => `document ${document.readyState}, Blazor ${window.Blazor ? 'loaded' : 'missing'}, layout ${document.querySelector('.mud-layout') ? 'shown' : 'missing'}, circuit ${window.bulkCampaigns?.circuitUp === true ? 'up' : 'not up'}`");
            }
            catch (PlaywrightException look)
            {
                state = $"the page could not be asked ({look.Message})";
            }
            throw new TimeoutException($"The page at {Page.Url} did not become interactive: {state}", e);
        }
    }

    public async Task ScreenshotAsync(string path) => await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = false });

    public async ValueTask DisposeAsync() => await context.DisposeAsync();
}

/// <summary>An app that has never been set up: no user exists yet.</summary>
public sealed class FreshInstallBrowserApp : BrowserApp
{
    protected override void Configure(AppFactory app)
    {
        app.Settings["Bootstrap:AdminEmail"] = "";
        app.Settings["Bootstrap:AdminPassword"] = "";
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserApp>
{
    public const string Name = "browser";
}
