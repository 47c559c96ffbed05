using System.Net;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

[Trait(DatabaseTrait.Name, DatabaseTrait.PagesOnly)]
[Collection(BrowserCollection.Name)]
public sealed class SettingsTests(BrowserApp browser)
{
    [Fact]
    public async Task An_admin_creates_an_api_key_sees_its_secret_once_uses_it_and_revokes_it()
    {
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/settings");
        await session.WaitForInteractiveAsync();

        await page.GetByLabel("Key name").FillAsync("Nightly CRM sync");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var sid = await page.GetByTestId("new-key-sid").InnerTextAsync();
        var secret = await page.GetByTestId("new-key-secret").InnerTextAsync();

        using var api = browser.App.CreateApiClient(sid, secret);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/v1/NoSuchThing")).StatusCode);

        await page.ReloadAsync();
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByText(sid)).ToBeVisibleAsync();
        Assert.Equal(0, await page.GetByText(secret).CountAsync());

        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = sid });
        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("revoked");

        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/v1/NoSuchThing")).StatusCode);
        Assert.Empty(session.ConsoleErrors);
    }

    [Fact]
    public async Task An_admin_sees_the_admin_tabs_together_and_the_profile_last()
    {
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/settings");
        await session.WaitForInteractiveAsync();

        var tabs = page.GetByRole(AriaRole.Tab);
        await Assertions.Expect(tabs).ToHaveTextAsync(["API keys", "Users", "Prices", "Backup", "Your profile"]);
    }

    [Fact]
    public async Task An_admin_adds_a_marketer_who_can_then_sign_in()
    {
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/settings");
        await session.WaitForInteractiveAsync();
        await page.GetByRole(AriaRole.Tab, new() { Name = "Users" }).ClickAsync();

        await page.GetByLabel("Email").FillAsync("new.marketer@example.com");
        await page.GetByLabel("Initial password").FillAsync("marketer-secret");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add user" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "new.marketer@example.com" })).ToBeVisibleAsync();

        await using var other = await browser.NewPageAsync();
        await other.Page.GotoAsync("/login");
        await other.Page.GetByLabel("Email").FillAsync("new.marketer@example.com");
        await other.Page.GetByLabel("Password").FillAsync("marketer-secret");
        await other.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await other.WaitForInteractiveAsync();
        await Assertions.Expect(other.Page.GetByTestId("signed-in-user")).ToHaveTextAsync("new.marketer@example.com");
        // A marketer has no link to the admin-only jobs dashboard.
        Assert.Equal(0, await other.Page.GetByRole(AriaRole.Link, new() { Name = "Jobs (Hangfire)" }).CountAsync());
    }
}
