using System.Net;
using System.Net.Http.Json;
using BulkCampaigns.Auth;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Auth;

public sealed class ApiKeyTests(AppFactory app) : IClassFixture<AppFactory>
{
    private ApiKeyService Keys => app.Services.GetRequiredService<ApiKeyService>();

    private static readonly System.Security.Claims.ClaimsPrincipal Admin = ApiKeyRoleTests.Person("admin-id", Roles.Admin);

    [Fact]
    public async Task A_new_key_works_at_once_and_its_secret_is_stored_only_as_a_hash()
    {
        var created = await Keys.CreateAsync("CRM sync", Roles.Marketer);

        var response = await app.CreateApiClient(created.Sid, created.Secret).GetAsync("/v1/NoSuchThing");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode); // authenticated: past the 401
        if (app.Provider == TestProvider.Sqlite)
        {
            var stored = await File.ReadAllBytesAsync(app.DatabasePath);
            Assert.DoesNotContain(created.Secret, System.Text.Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
        }
        else
        {
            // The key's row, read whole as text, holds no trace of the secret.
            Assert.Equal(1, await app.Database.CountAsync($"""SELECT COUNT(*) FROM "ApiKeys" k WHERE k."Sid" = '{created.Sid}'"""));
            Assert.Equal(0, await app.Database.CountAsync($"""SELECT COUNT(*) FROM "ApiKeys" k WHERE strpos(k::text, '{created.Secret.Replace("'", "''", StringComparison.Ordinal)}') > 0"""));
        }
        Assert.Contains(await Keys.ListAsync(Admin), k => k.Sid == created.Sid && k.Role == Roles.Marketer && k.LastUsedAt is not null);
    }

    [Fact]
    public async Task A_revoked_key_gets_401_from_then_on()
    {
        var created = await Keys.CreateAsync("Old integration", Roles.Viewer);
        var client = app.CreateApiClient(created.Sid, created.Secret);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/NoSuchThing")).StatusCode);

        await Keys.RevokeAsync(Admin, created.Sid);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v1/NoSuchThing")).StatusCode);
    }

    [Fact]
    public async Task A_viewer_key_may_read_but_not_change_anything()
    {
        var viewer = await Keys.CreateAsync("Reporting", Roles.Viewer);
        var client = app.CreateApiClient(viewer.Sid, viewer.Secret);

        var read = await client.GetAsync("/v1/Content");
        var write = await client.PostAsJsonAsync("/v1/Content", new { name = "Nope", content = new { text = "Hi" } });

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        Assert.Contains("Viewer", await write.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("Nope", await (await client.GetAsync("/v1/Content")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_bootstrap_key_is_not_created_twice_on_restart()
    {
        var again = await Keys.EnsureAsync(AppFactory.ApiKeySid, AppFactory.ApiKeySecret, "Bootstrap key", Roles.Admin);

        Assert.False(again);
        Assert.Single(await Keys.ListAsync(Admin), k => k.Sid == AppFactory.ApiKeySid);
    }

    [Theory]
    [InlineData("secret", "secret", true)]
    [InlineData("secret", "Secret", false)]
    [InlineData("secret", "", false)]
    public void A_secret_verifies_only_against_its_own_hash(string secret, string attempt, bool expected) =>
        Assert.Equal(expected, ApiKeyService.Verify(attempt, ApiKeyService.Hash(secret)));
}
