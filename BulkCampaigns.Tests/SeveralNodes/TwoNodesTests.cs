using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.SeveralNodes;

/// <summary>
/// Node A serves the pages and the API only; node B runs every batch and import (<see cref="NodePair"/>). What node A
/// stops, and what its pages show moving, went from one process to the other through PostgreSQL and Redis.
/// </summary>
[Collection(SeveralNodesCollection.Name)]
public sealed class TwoNodesTests(WebAndWorkerNodes nodes, ITestOutputHelper output) : IClassFixture<WebAndWorkerNodes>
{
    // 3 SMS segments (GSM-7, over 306 characters): at 1 MPS a batch waits 3 s for each next turn, longer than the
    // database look every 250 ms would leave it waiting, so only the wake-up stops it within the second.
    private static readonly string LongText = "Slow news. " + new string('x', 380);

    private NodePair Pair => nodes.Pair;

    [Fact]
    public async Task A_pause_through_node_A_stops_the_sends_of_node_B_within_a_second()
    {
        const string from = "+14155550711";
        var api = Pair.A.Client;
        await CreateSenderAsync(api, from, 1);
        var id = await SendAsync(api, new { from = new { address = from }, to = Recipients(0, 20), content = new { text = LongText } });
        await Wait.UntilAsync(async () => (await Pair.ReceivedAtAsync(from)).Count >= 2, "two sends");

        var pause = await api.PostAsync($"/v1/Messages/Operations/{id}/Pause", null);
        var pausedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        // Node B's batch ends (and writes what it sent), then nothing it sent may be later than a second after the pause.
        await Wait.UntilAsync(() => NodePair.BatchesRun(Pair.B, id) >= 1, "node B's batch to stop");
        Assert.Equal(0, NodePair.BatchesRun(Pair.A, id));
        var times = await Pair.ReceivedAtAsync(from);
        output.WriteLine($"paused at {pausedAt}; last send at {times[^1]} ({times[^1] - pausedAt} ms after); {times.Count} sent");
        Assert.True(times[^1] <= pausedAt + 1000, $"node B sent {times[^1] - pausedAt} ms after the pause");
        var op = await GetOperationAsync(api, id);
        Assert.Equal("PAUSED", op.GetProperty("status").GetString());
        Assert.Equal(times.Count, Stat(op, "sent") + Stat(op, "delivered"));
        AssertStatsAddUp(op);
    }

    [Fact]
    public async Task A_cancel_through_node_A_stops_the_sends_of_node_B_within_a_second()
    {
        const string from = "+14155550712";
        var api = Pair.A.Client;
        await CreateSenderAsync(api, from, 1);
        var id = await SendAsync(api, new { from = new { address = from }, to = Recipients(100, 20), content = new { text = LongText } });
        await Wait.UntilAsync(async () => (await Pair.ReceivedAtAsync(from)).Count >= 2, "two sends");

        var cancel = await api.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null);
        var canceledAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        await Wait.UntilAsync(() => NodePair.BatchesRun(Pair.B, id) >= 1, "node B's batch to stop");
        var times = await Pair.ReceivedAtAsync(from);
        output.WriteLine($"canceled at {canceledAt}; last send {times[^1] - canceledAt} ms after; {times.Count} sent");
        Assert.True(times[^1] <= canceledAt + 1000, $"node B sent {times[^1] - canceledAt} ms after the cancel");
        var op = await WaitForAsync(api, id, o => Stat(o, "queued") == 0);
        Assert.Equal("CANCELED", op.GetProperty("status").GetString());
        Assert.Equal(20 - times.Count, Stat(op, "canceled"));
        AssertStatsAddUp(op);
    }

    [Fact]
    public async Task A_resume_through_node_A_has_node_B_sending_again_within_a_second()
    {
        const string from = "+14155550713";
        var api = Pair.A.Client;
        await CreateSenderAsync(api, from, 20);
        var id = await SendAsync(api, new { from = new { address = from }, to = Recipients(200, 200), content = new { text = "Back soon" } });
        await Wait.UntilAsync(async () => (await Pair.ReceivedAtAsync(from)).Count >= 5, "five sends");
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/v1/Messages/Operations/{id}/Pause", null)).StatusCode);
        await Wait.UntilAsync(() => NodePair.BatchesRun(Pair.B, id) >= 1, "node B's batch to stop");
        var beforeResume = (await Pair.ReceivedAtAsync(from)).Count;

        var resume = await api.PostAsync($"/v1/Messages/Operations/{id}/Resume", null);
        var resumedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        await Wait.UntilAsync(async () => (await Pair.ReceivedAtAsync(from)).Count > beforeResume, "a send after the resume");
        var first = (await Pair.ReceivedAtAsync(from))[beforeResume];
        output.WriteLine($"resumed at {resumedAt}; first send {first - resumedAt} ms after");
        Assert.True(first <= resumedAt + 1000, $"node B sent again {first - resumedAt} ms after the resume");
        var op = await WaitForStatusAsync(api, id, "COMPLETED", 120);
        Assert.Equal(200, Stat(op, "sent") + Stat(op, "delivered"));
        Assert.Equal(200, await Pair.DistinctRecipientsAsync(from));
        Assert.Equal(0, NodePair.BatchesRun(Pair.A, id));
    }

    [Fact]
    public async Task A_dashboard_open_on_node_A_follows_a_campaign_whose_batches_run_on_node_B_without_a_reload()
    {
        const string from = "+14155550714";
        var api = Pair.A.Client;
        await CreateSenderAsync(api, from, 10);
        var id = await SendAsync(api, new { from = new { address = from }, to = Recipients(500, 150), content = new { text = "Live from B" }, name = "Across nodes" });
        await using var session = await nodes.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync($"/campaigns/{id}");
        await session.WaitForInteractiveAsync();
        try
        {
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Across nodes" })).ToBeVisibleAsync();
        }
        catch (PlaywrightException)
        {
            output.WriteLine("node A's log:\n" + Pair.A.Output);
            throw;
        }
        var navigations = 0;
        page.FrameNavigated += (_, frame) => { if (frame == page.MainFrame) { navigations++; } };

        // On its way (node A runs no batch and its live client is connected, so only node B's changes can move it)…
        await Assertions.Expect(page.GetByTestId("campaign-percent")).ToHaveTextAsync(new Regex("^[1-9][0-9]?%$"), new() { Timeout = 60_000 });
        // …and done, seen within a second of the database saying so.
        await WaitForStatusAsync(api, id, "COMPLETED", 120);
        var completed = System.Diagnostics.Stopwatch.StartNew();
        await Assertions.Expect(page.GetByTestId("campaign-percent")).ToHaveTextAsync("100%", new() { Timeout = 30_000 });
        output.WriteLine($"the dashboard on A showed 100% {completed.ElapsedMilliseconds} ms after the API on A said COMPLETED");
        Assert.True(completed.Elapsed < TimeSpan.FromSeconds(1), $"the dashboard took {completed.Elapsed} to show the end");

        await Assertions.Expect(page.GetByTestId("campaign-done")).ToContainTextAsync("150 of 150 done");
        Assert.Equal(0, navigations);
        Assert.Equal(0, NodePair.BatchesRun(Pair.A, id));
        Assert.True(NodePair.BatchesRun(Pair.B, id) >= 1);
        Assert.Empty(session.ConsoleErrors);
    }

    [Fact]
    public async Task The_group_page_open_on_node_A_shows_an_import_that_runs_on_node_B_finish_without_a_reload()
    {
        var api = Pair.A.Client;
        var created = await api.PostAsJsonAsync("/v1/Groups", new { name = "Imported on B" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var groupId = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString()!;
        await using var session = await nodes.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync($"/recipients/{groupId}");
        await session.WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Imported on B", Level = 1 })).ToBeVisibleAsync();
        var navigations = 0;
        page.FrameNavigated += (_, frame) => { if (frame == page.MainFrame) { navigations++; } };

        var csv = new StringBuilder("phone,First Name\n");
        for (var i = 0; i < 3000; i++)
        {
            csv.Append(Number(20_000 + i)).Append(",Ann ").Append(i).Append('\n');
        }
        // Uploaded to node B, which runs the import (node A runs no jobs); the page open on node A hears of it.
        var import = await Pair.B.Client.PostAsync($"/v1/Groups/{groupId}/Imports", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.Accepted, import.StatusCode);

        await Assertions.Expect(page.GetByTestId("import-summary")).ToContainTextAsync("Import finished: 3,000 added", new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByTestId("group-count")).ToHaveTextAsync("3,000 recipients");
        Assert.Equal(0, navigations);
        Assert.Empty(session.ConsoleErrors);
    }

    private static object[] Recipients(int first, int count) => Enumerable.Range(first, count).Select(i => (object)new { address = Number(i) }).ToArray();

}

/// <summary>Node A (pages and API only) and node B (every job), and a Chromium to look at node A with.</summary>
public sealed class WebAndWorkerNodes : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public NodePair Pair { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        Pair = await NodePair.StartAsync(aRunsJobs: false);
    }

    /// <summary>A page on node A, signed in as the bootstrap admin.</summary>
    public async Task<BrowserPage> SignedInPageAsync()
    {
        _playwright ??= await Playwright.CreateAsync();
        _browser ??= await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserApp.ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = $"http://127.0.0.1:{Pair.A.Port}", ViewportSize = new ViewportSize { Width = 1360, Height = 860 }, Locale = "en-US" });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        var session = new BrowserPage(context, page);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                session.ConsoleErrors.Add($"{message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => session.ConsoleErrors.Add(error);
        await page.GotoAsync("/login");
        await page.GetByLabel("Email").FillAsync(AppFactory.AdminEmail);
        await page.GetByLabel("Password").FillAsync(AppFactory.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
        await session.WaitForInteractiveAsync();
        return session;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
        if (Pair is not null)
        {
            await Pair.DisposeAsync();
        }
    }
}

/// <summary>
/// Two app processes each, with timing promises (a pace over a minute, a stop within a second): they run on their own,
/// after the parallel tests, so the other tests' load does not decide whether two nodes keep up with 500 a second.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SeveralNodesCollection
{
    public const string Name = "several nodes";
}
