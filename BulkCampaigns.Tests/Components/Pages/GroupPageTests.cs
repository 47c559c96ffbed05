using BulkCampaigns.Auth;
using BulkCampaigns.Components.Pages.Recipients;
using BulkCampaigns.Data;
using BulkCampaigns.Live;
using BulkCampaigns.Recipients;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using BulkCampaigns.Tests.Recipients;
using Bunit;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Components.Pages;

/// <summary>The group page and its panels rendered with the real services of an app on its own database.</summary>
public sealed class GroupPageTests : MudTestContext, IClassFixture<AppFactory>
{
    private readonly AppFactory _app;
    private readonly HttpClient _client;
    private readonly FakeLiveUpdates _live = new();

    public GroupPageTests(AppFactory app)
    {
        _app = app;
        _client = app.CreateApiClient();
        Services.AddSingleton(_app.Services.GetRequiredService<GroupService>());
        Services.AddSingleton(_app.Services.GetRequiredService<ImportService>());
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<ILiveUpdates>(_live);
        var auth = AddAuthorization();
        auth.SetAuthorized("admin@example.com");
        auth.SetRoles(Roles.Admin);
        auth.SetPolicies(AuthSetup.WritePolicy);
    }

    [Fact]
    public async Task The_group_page_hears_of_its_imports_through_the_live_hub_and_shows_the_new_one_when_told()
    {
        var group = await _client.CreateGroupAsync("Live page");
        await _client.ImportAsync(group, "phone,name\n2015550101,Ann\n");

        var cut = Render<GroupPage>(p => p.Add(x => x.GroupId, group));
        cut.WaitForAssertion(() => Assert.Equal("1 recipient", cut.Find("[data-testid=group-count]").TextContent.Trim()));
        // The page subscribes once its first load is done, which on PostgreSQL can come after the count shows.
        cut.WaitForAssertion(() => Assert.Equal([LiveTopics.Imports(group)], _live.Topics));

        await _client.ImportAsync(group, "phone,name,city\n2015550102,Bob,Rome\n2015550103,Cy,Oslo\n");
        await cut.InvokeAsync(_live.SignalAsync);

        cut.WaitForAssertion(() => Assert.Equal("3 recipients", cut.Find("[data-testid=group-count]").TextContent.Trim()));
        Assert.Contains("2 added", cut.Find("[data-testid=import-summary]").TextContent, StringComparison.Ordinal);
        Assert.Contains("Rome", cut.Find("[data-testid=recipients-grid]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rejected_rows_are_shown_ten_at_a_time_and_the_pager_reads_the_next_ten_from_the_server()
    {
        var group = await _client.CreateGroupAsync("Many rejected");
        var csv = "phone,name\n2015550101,Ann\n" + string.Concat(Enumerable.Range(1, 54).Select(i => $"12ab{i},Bad {i}\n"));
        var import = await _client.ImportAsync(group, csv);
        Assert.Equal(54, import.GetProperty("rejected").GetInt64());
        PublicId.TryDecode(PublicId.Group, group, out var groupKey);
        PublicId.TryDecode(PublicId.Import, import.GetProperty("id").GetString()!, out var importKey);
        var view = await _app.Services.GetRequiredService<ImportService>().GetAsync(groupKey, importKey);

        var cut = Render<ImportProgressPanel>(p => p.Add(x => x.Import, view!));

        cut.WaitForAssertion(() => Assert.Equal(10, cut.FindAll("[data-testid=rejected-rows] tbody tr").Count));
        Assert.Equal("2", cut.Find("[data-testid=rejected-rows] tbody tr td").TextContent);
        // Found and clicked on the renderer's thread: the panel's other lists still load and re-render it meanwhile, and a
        // button found before such a render has lost its handler (bUnit's UnknownEventHandlerIdException, once in CI).
        await cut.InvokeAsync(() => cut.Find("[data-testid=rejected-pager]").QuerySelectorAll("button")
            .Single(b => b.TextContent.Contains("Next", StringComparison.Ordinal)).Click());
        cut.WaitForAssertion(() => Assert.Equal("12", cut.Find("[data-testid=rejected-rows] tbody tr td").TextContent));
        Assert.Equal(10, cut.FindAll("[data-testid=rejected-rows] tbody tr").Count);
    }

    /// <summary>Records what a page watches and lets the test say when it changed.</summary>
    private sealed class FakeLiveUpdates : ILiveUpdates
    {
        private readonly List<Func<Task>> _handlers = [];

        public List<string> Topics { get; } = [];

        public Task<IAsyncDisposable> WatchAsync(string topic, Func<Task> onChanged)
        {
            Topics.Add(topic);
            _handlers.Add(onChanged);
            return Task.FromResult<IAsyncDisposable>(new Nothing());
        }

        public async Task SignalAsync()
        {
            foreach (var handler in _handlers)
            {
                await handler();
            }
        }

        private sealed class Nothing : IAsyncDisposable
        {
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
