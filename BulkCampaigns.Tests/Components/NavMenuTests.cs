using BulkCampaigns.Auth;
using BulkCampaigns.Components.Layout;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;

namespace BulkCampaigns.Tests.Components;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class NavMenuTests : MudTestContext
{
    [Fact]
    public void Every_feature_has_a_link()
    {
        AddAuthorization().SetAuthorized("marketer@example.com").SetRoles(Roles.Marketer);

        var cut = Render<NavMenu>();

        var links = cut.FindAll("a").Select(a => a.TextContent.Trim()).ToList();
        Assert.Equal(["Dashboard", "Recipients", "Content", "Campaigns", "Senders", "Suppressions", "Simulator", "Settings"], links);
    }

    [Fact]
    public void Only_an_admin_sees_the_jobs_dashboard_link()
    {
        AddAuthorization().SetAuthorized("admin@example.com").SetRoles(Roles.Admin);

        var cut = Render<NavMenu>();

        Assert.Contains(cut.FindAll("a"), a => a.TextContent.Contains("Jobs (Hangfire)", StringComparison.Ordinal));
    }
}
