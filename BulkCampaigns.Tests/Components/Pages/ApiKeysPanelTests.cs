using System.Security.Claims;
using BulkCampaigns.Auth;
using BulkCampaigns.Components.Pages.Settings;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Components.Pages;

/// <summary>The API keys panel in another role's session, with the real key service on its own database.</summary>
public sealed class ApiKeysPanelTests : MudTestContext, IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public ApiKeysPanelTests(AppFactory app)
    {
        _app = app;
        _app.CreateClient().Dispose(); // starts the app: database migrated, bootstrap key made
        Services.AddSingleton(_app.Services.GetRequiredService<ApiKeyService>());
    }

    private void SignedInAs(string userId, string role)
    {
        var auth = AddAuthorization();
        auth.SetAuthorized(userId + "@example.com");
        auth.SetRoles(role);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, userId));
        if (role != Roles.Viewer)
        {
            auth.SetPolicies(AuthSetup.WritePolicy);
        }
    }

    [Fact]
    public async Task A_marketer_sees_their_own_keys_and_not_the_admins_ones()
    {
        var keys = _app.Services.GetRequiredService<ApiKeyService>();
        var mine = await keys.CreateAsync(BulkCampaigns.Tests.Auth.ApiKeyRoleTests.Person("panel-marketer", Roles.Marketer), "Marketer's sync", Roles.Marketer);
        SignedInAs("panel-marketer", Roles.Marketer);

        var cut = Render<ApiKeysPanel>();

        cut.WaitForAssertion(() => Assert.Contains(mine.Sid, cut.Markup, StringComparison.Ordinal));
        Assert.DoesNotContain(AppFactory.ApiKeySid, cut.Markup, StringComparison.Ordinal);
        Assert.Single(cut.FindAll("button"), b => b.TextContent.Contains("Revoke", StringComparison.Ordinal));
    }

    [Fact]
    public void A_viewer_sees_no_keys()
    {
        SignedInAs("panel-viewer", Roles.Viewer);

        var cut = Render<ApiKeysPanel>();

        cut.WaitForAssertion(() => Assert.Contains("managed by admins and marketers", cut.Markup, StringComparison.Ordinal));
        Assert.DoesNotContain(AppFactory.ApiKeySid, cut.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("Create key", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void An_admin_sees_every_key_with_who_made_it()
    {
        SignedInAs("panel-admin", Roles.Admin);

        var cut = Render<ApiKeysPanel>();

        cut.WaitForAssertion(() => Assert.Contains(AppFactory.ApiKeySid, cut.Markup, StringComparison.Ordinal));
        Assert.Contains("operator settings", cut.Markup, StringComparison.Ordinal);
    }
}
