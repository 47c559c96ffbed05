using System.Net;
using System.Security.Claims;
using BulkCampaigns.Auth;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Auth;

/// <summary>API keys are the admins': a Marketer manages only the keys they made, a Viewer none.</summary>
public sealed class ApiKeyRoleTests(AppFactory app) : IClassFixture<AppFactory>
{
    public static ClaimsPrincipal Person(string userId, string role) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, userId), new Claim(ClaimTypes.Name, userId + "@example.com"), new Claim(ClaimTypes.Role, role)], "test"));

    private ApiKeyService Keys => app.Services.GetRequiredService<ApiKeyService>();

    private static readonly ClaimsPrincipal Admin = Person("admin-1", Roles.Admin);
    private static readonly ClaimsPrincipal Marketer = Person("marketer-1", Roles.Marketer);
    private static readonly ClaimsPrincipal OtherMarketer = Person("marketer-2", Roles.Marketer);
    private static readonly ClaimsPrincipal Viewer = Person("viewer-1", Roles.Viewer);

    [Fact]
    public async Task A_marketer_cannot_revoke_an_admins_key_and_the_admins_automation_keeps_working()
    {
        app.CreateClient().Dispose();
        var adminsOwn = await Keys.CreateAsync(Admin, "Admin's nightly export", Roles.Admin);

        Assert.Equal(RevokeOutcome.Forbidden, await Keys.RevokeAsync(Marketer, AppFactory.ApiKeySid));
        Assert.Equal(RevokeOutcome.Forbidden, await Keys.RevokeAsync(Marketer, adminsOwn.Sid));

        Assert.Equal(HttpStatusCode.OK, (await app.CreateApiClient().GetAsync("/v1/Groups")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateApiClient(adminsOwn.Sid, adminsOwn.Secret).GetAsync("/v1/Groups")).StatusCode);
    }

    [Fact]
    public async Task A_marketer_sees_and_revokes_only_the_keys_they_made()
    {
        var mine = await Keys.CreateAsync(Marketer, "My CRM sync", Roles.Marketer);
        var theirs = await Keys.CreateAsync(OtherMarketer, "Their reporting", Roles.Viewer);

        var listed = await Keys.ListAsync(Marketer);

        Assert.Contains(listed, k => k.Sid == mine.Sid);
        Assert.DoesNotContain(listed, k => k.Sid == theirs.Sid || k.Sid == AppFactory.ApiKeySid);
        Assert.Equal(RevokeOutcome.Forbidden, await Keys.RevokeAsync(Marketer, theirs.Sid));
        Assert.Equal(RevokeOutcome.Revoked, await Keys.RevokeAsync(Marketer, mine.Sid));
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateApiClient(mine.Sid, mine.Secret).GetAsync("/v1/Groups")).StatusCode);
    }

    [Fact]
    public async Task Nobody_makes_a_key_above_their_own_role()
    {
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => Keys.CreateAsync(Marketer, "Sneaky", Roles.Admin));
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => Keys.CreateAsync(Viewer, "Reader", Roles.Viewer));

        Assert.DoesNotContain(await Keys.ListAsync(Admin), k => k.Name is "Sneaky" or "Reader");
    }

    [Fact]
    public async Task A_viewer_sees_no_keys_and_revokes_none()
    {
        app.CreateClient().Dispose();

        Assert.Empty(await Keys.ListAsync(Viewer));
        Assert.Equal(RevokeOutcome.Forbidden, await Keys.RevokeAsync(Viewer, AppFactory.ApiKeySid));
        Assert.Contains(await Keys.ListAsync(Admin), k => k.Sid == AppFactory.ApiKeySid && k.RevokedAt == null);
    }

    [Fact]
    public async Task An_admin_sees_and_revokes_every_key()
    {
        var marketers = await Keys.CreateAsync(Marketer, "Campaign tool", Roles.Marketer);

        Assert.Contains(await Keys.ListAsync(Admin), k => k.Sid == marketers.Sid);
        Assert.Equal(RevokeOutcome.Revoked, await Keys.RevokeAsync(Admin, marketers.Sid));
    }

    [Fact]
    public async Task A_demoted_user_loses_the_keys_above_their_new_role_and_a_removed_user_all_of_theirs()
    {
        var formerAdmin = Person("admin-3", Roles.Admin);
        var adminKey = await Keys.CreateAsync(formerAdmin, "Manages everything", Roles.Admin);
        var marketerKey = await Keys.CreateAsync(formerAdmin, "Sends campaigns", Roles.Marketer);

        Assert.Equal(1, await Keys.RevokeBeyondRoleAsync("admin-3", Roles.Marketer));
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateApiClient(adminKey.Sid, adminKey.Secret).GetAsync("/v1/Groups")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateApiClient(marketerKey.Sid, marketerKey.Secret).GetAsync("/v1/Groups")).StatusCode);

        Assert.Equal(1, await Keys.RevokeBeyondRoleAsync("admin-3", null));
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateApiClient(marketerKey.Sid, marketerKey.Secret).GetAsync("/v1/Groups")).StatusCode);
    }

    [Fact]
    public async Task A_user_made_Viewer_keeps_no_keys()
    {
        var demoted = Person("marketer-4", Roles.Marketer);
        await Keys.CreateAsync(demoted, "Sends", Roles.Marketer);
        await Keys.CreateAsync(demoted, "Reads", Roles.Viewer);

        Assert.Equal(2, await Keys.RevokeBeyondRoleAsync("marketer-4", Roles.Viewer));
    }
}
