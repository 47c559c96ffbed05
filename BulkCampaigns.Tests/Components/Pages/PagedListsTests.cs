using BulkCampaigns.Auth;
using BulkCampaigns.Campaigns;
using BulkCampaigns.Components.Pages.Content;
using BulkCampaigns.Components.Pages.Suppressions;
using BulkCampaigns.Components.Shared;
using BulkCampaigns.Content;
using BulkCampaigns.Recipients;
using BulkCampaigns.Suppressions;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Components.Pages;

/// <summary>
/// Lists that used to be read whole (templates, drafts) now read a page at a time from SQLite: following "next" must
/// show every row exactly once, in order.
/// </summary>
public sealed class PagedListsTests : MudTestContext, IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public PagedListsTests(AppFactory app)
    {
        _app = app;
        _app.CreateClient().Dispose(); // starts the app: database migrated, services built
        Services.AddSingleton(_app.Services.GetRequiredService<ContentService>());
        Services.AddSingleton(_app.Services.GetRequiredService<SuppressionService>());
        Services.AddSingleton(_app.Services.GetRequiredService<RecipientOptions>());
        var auth = AddAuthorization();
        auth.SetAuthorized(AppFactory.AdminEmail);
        auth.SetRoles(Roles.Admin);
        auth.SetPolicies(AuthSetup.WritePolicy);
    }

    private static async Task<List<T>> FollowNextAsync<T>(KeysetPages<long, T> pages)
    {
        await pages.LoadAsync();
        var seen = new List<T>(pages.Rows);
        while (pages.HasNext)
        {
            await pages.NextAsync();
            Assert.NotEmpty(pages.Rows);
            seen.AddRange(pages.Rows);
        }
        return seen;
    }

    [Fact]
    public async Task Following_next_through_the_templates_shows_each_one_once_newest_first()
    {
        var content = _app.Services.GetRequiredService<ContentService>();
        for (var i = 1; i <= 23; i++)
        {
            Assert.Empty((await content.CreateAsync($"Paged template {i:D2}", new MessageContent { Text = $"Hi {i}" })).Problems);
        }
        var all = (await content.ListAsync()).Select(t => t.Id).OrderDescending().ToList();

        var seen = await FollowNextAsync(KeysetPages.Over<long, ContentTemplateView>(5, t => t.Id, (before, take) => content.NewestAsync(before, take)));

        Assert.Equal(all, seen.Select(t => t.Id));
        Assert.Equal("Paged template 23", seen.First(t => t.Name.StartsWith("Paged", StringComparison.Ordinal)).Name);
    }

    [Fact]
    public async Task Following_next_through_a_user_s_drafts_shows_each_of_theirs_once_newest_first_and_no_one_else_s()
    {
        var drafts = _app.Services.GetRequiredService<CampaignDrafts>();
        var mine = new List<long>();
        for (var i = 1; i <= 12; i++)
        {
            mine.Add(await drafts.SaveAsync("pager@example.com", null, new DraftData { Name = $"Draft {i}" }));
            await drafts.SaveAsync("other@example.com", null, new DraftData { Name = $"Theirs {i}" });
        }

        var seen = await FollowNextAsync(KeysetPages.Over<long, DraftSummary>(5, d => d.Id, (before, take) => drafts.PageAsync("pager@example.com", before, take)));

        Assert.Equal(mine.AsEnumerable().Reverse(), seen.Select(d => d.Id));
        Assert.Equal("Draft 12", seen[0].Name);
    }

    [Fact]
    public async Task The_content_page_shows_twenty_five_templates_and_the_pager_reads_the_rest_from_the_server()
    {
        var content = _app.Services.GetRequiredService<ContentService>();
        for (var i = 1; i <= 30; i++)
        {
            await content.CreateAsync($"Listed {i:D2}", new MessageContent { Text = "Hello" });
        }
        var total = (await content.ListAsync()).Count;

        var cut = Render<ContentPage>();

        cut.WaitForAssertion(() => Assert.Equal(25, cut.FindAll("[data-testid=content-list] tbody tr").Count));
        Assert.Contains("Listed 30", cut.Find("[data-testid=content-list] tbody tr").TextContent, StringComparison.Ordinal);
        var names = new HashSet<string>(cut.FindAll("[data-testid=content-list] tbody tr td:first-child").Select(td => td.TextContent));
        while (!cut.FindAll("[data-testid=content-pager] button").Single(b => b.TextContent.Contains("Next", StringComparison.Ordinal)).HasAttribute("disabled"))
        {
            var page = cut.Find("[data-testid=page-range]").TextContent;
            // Found and clicked in one turn of the renderer: the pager may render again in between (its rows just read).
            await cut.InvokeAsync(() => cut.FindAll("[data-testid=content-pager] button").Single(b => b.TextContent.Contains("Next", StringComparison.Ordinal)).Click());
            cut.WaitForAssertion(() => Assert.NotEqual(page, cut.Find("[data-testid=page-range]").TextContent));
            foreach (var td in cut.FindAll("[data-testid=content-list] tbody tr td:first-child"))
            {
                Assert.True(names.Add(td.TextContent), $"{td.TextContent} shown twice");
            }
        }
        Assert.Equal(total, names.Count);
    }

    [Fact]
    public async Task The_suppressions_page_pages_forward_and_back_and_a_search_starts_again_at_its_first_page()
    {
        var suppressions = _app.Services.GetRequiredService<SuppressionService>();
        for (var i = 0; i < 60; i++)
        {
            await suppressions.AddAsync($"+1415555{i:D4}", null, "manual");
        }
        static IEnumerable<string> Numbers(IRenderedComponent<SuppressionsPage> cut) =>
            cut.FindAll("[data-testid=suppressions-table] tbody tr td:first-child").Select(td => td.TextContent);
        AngleSharp.Dom.IElement Button(IRenderedComponent<SuppressionsPage> cut, string name) =>
            cut.FindAll("[data-testid=suppressions-pager] button").Single(b => b.TextContent.Contains(name, StringComparison.Ordinal));
        // Found and clicked in one turn of the renderer: the pager may render again in between (its rows just read).
        Task Click(IRenderedComponent<SuppressionsPage> cut, string name) => cut.InvokeAsync(() => Button(cut, name).Click());

        var cut = Render<SuppressionsPage>();

        cut.WaitForAssertion(() => Assert.Equal(50, Numbers(cut).Count()));
        Assert.Equal("+14155550000", Numbers(cut).First());
        await Click(cut, "Next");
        cut.WaitForAssertion(() => Assert.Equal(Enumerable.Range(50, 10).Select(i => $"+1415555{i:D4}"), Numbers(cut)));
        Assert.True(Button(cut, "Next").HasAttribute("disabled"));
        await Click(cut, "Previous");
        cut.WaitForAssertion(() => Assert.Equal("+14155550000", Numbers(cut).First()));
        await Click(cut, "Next");
        cut.WaitForAssertion(() => Assert.Equal(10, Numbers(cut).Count()));

        // The search box is the last text box: the number and reason to add come first.
        cut.FindAll("input[type=text]")[^1].Input("+1415555001");

        cut.WaitForAssertion(() => Assert.Equal(Enumerable.Range(10, 10).Select(i => $"+1415555{i:D4}"), Numbers(cut)), TimeSpan.FromSeconds(5));
        Assert.Contains("Page 1", cut.Find("[data-testid=suppressions-pager]").TextContent, StringComparison.Ordinal);
    }
}
