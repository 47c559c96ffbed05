using BulkCampaigns.Auth;
using BulkCampaigns.Components.Pages.Recipients.Segments;
using BulkCampaigns.Content;
using BulkCampaigns.Recipients.Segments;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using BulkCampaigns.Tests.Recipients;
using Bunit;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Components.Pages;

/// <summary>The segment builder with the real services of an app on its own database.</summary>
public sealed class SegmentBuilderTests : MudTestContext, IClassFixture<AppFactory>
{
    private readonly AppFactory _app;
    private readonly HttpClient _client;

    public SegmentBuilderTests(AppFactory app)
    {
        _app = app;
        _client = app.CreateApiClient();
        Services.AddSingleton(_app.Services.GetRequiredService<SegmentService>());
        Services.AddSingleton(_app.Services.GetRequiredService<ContentService>());
        Services.AddSingleton(TimeProvider.System);
        var auth = AddAuthorization();
        auth.SetAuthorized("admin@example.com");
        auth.SetRoles(Roles.Admin);
        auth.SetPolicies(AuthSetup.WritePolicy);
    }

    private async Task<string> GroupAsync(string name)
    {
        var group = await _client.CreateGroupAsync(name);
        await _client.ImportAsync(group, "phone,plan,age\n2015550301,Pro,34\n2015550302,free,51\n2015550303,PRO,n/a\n2015550304,gold,29\n");
        return group;
    }

    [Fact]
    public async Task The_count_and_sample_follow_each_condition_and_common_values_are_offered()
    {
        await GroupAsync("Builder " + Guid.NewGuid().ToString("N")[..6]);
        RenderPopoverProvider();
        var cut = Render<SegmentBuilder>();
        cut.WaitForAssertion(() => Assert.NotEqual("–", cut.Find("[data-testid=segment-count]").TextContent.Trim()), TimeSpan.FromSeconds(15));

        // A condition on "plan" (the first variable), "is" "pro": two recipients in any letter case.
        cut.Find("button[data-testid=add-condition]").Click();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=common-values] .mud-chip")), TimeSpan.FromSeconds(15));
        Assert.Contains(cut.FindAll("[data-testid=common-values] .mud-chip"), c => c.TextContent.Trim() == "Pro");
        cut.Find("[data-testid=condition-value] input").Input("pro");

        cut.WaitForAssertion(() => Assert.Equal("2", cut.Find("[data-testid=segment-count]").TextContent.Trim()), TimeSpan.FromSeconds(15));
        Assert.Equal(["+12015550301", "+12015550303"], cut.FindAll("[data-testid=segment-sample] tr td:first-child").Select(td => td.TextContent.Trim()).Distinct().Order());
    }

    [Fact]
    public async Task A_condition_without_its_value_shows_the_api_problem_beside_it_until_the_value_is_typed()
    {
        await GroupAsync("Builder bad " + Guid.NewGuid().ToString("N")[..6]);
        RenderPopoverProvider();
        var cut = Render<SegmentBuilder>();
        cut.WaitForElement("button[data-testid=add-condition]", TimeSpan.FromSeconds(15)).Click();

        cut.WaitForAssertion(() =>
        {
            var condition = cut.Find("[data-testid=filter-condition]");
            Assert.Equal("filter.all[0]", condition.GetAttribute("data-path"));
            Assert.Equal("value is a text of at least one character.", cut.Find("[data-testid=filter-problem]").TextContent.Trim());
            Assert.Equal("–", cut.Find("[data-testid=segment-count]").TextContent.Trim());
        }, TimeSpan.FromSeconds(15));
        cut.Find("[data-testid=condition-value] input").Input("gold");
        cut.WaitForAssertion(() =>
        {
            Assert.Empty(cut.FindAll("[data-testid=filter-problem]"));
            Assert.NotEqual("–", cut.Find("[data-testid=segment-count]").TextContent.Trim());
        }, TimeSpan.FromSeconds(15));
    }
}
