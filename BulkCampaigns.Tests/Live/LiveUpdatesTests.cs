using System.Security.Claims;
using BulkCampaigns.Live;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace BulkCampaigns.Tests.Live;

/// <summary>The app on a real port, so a circuit-side hub connection can reach it.</summary>
public sealed class LiveApp : IDisposable
{
    public AppFactory App { get; } = new();

    public LiveApp()
    {
        App.UseKestrel(0);
        App.StartServer();
    }

    public LiveClient NewClient(string user = AppFactory.AdminEmail) => new(
        new SignedIn(user),
        App.Services.GetRequiredService<LiveTokens>(),
        App.Services.GetRequiredService<LiveEndpoint>(),
        NullLogger<LiveClient>.Instance);

    public void Dispose() => App.Dispose();

    private sealed class SignedIn(string name) : AuthenticationStateProvider
    {
        public override Task<AuthenticationState> GetAuthenticationStateAsync() =>
            Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], "test"))));
    }
}

public sealed class LiveUpdatesTests(LiveApp live) : IClassFixture<LiveApp>
{
    private LivePublisher Publisher => live.App.Services.GetRequiredService<LivePublisher>();

    [Fact]
    public async Task A_watcher_hears_a_published_change_of_its_topic_and_not_of_others()
    {
        await using var client = live.NewClient();
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var othersHeard = 0;
        await using var a = await client.WatchAsync("operation:mine", () => { mine.TrySetResult(); return Task.CompletedTask; });
        await using var b = await client.WatchAsync("operation:other", () => { Interlocked.Increment(ref othersHeard); return Task.CompletedTask; });

        Publisher.Changed("operation:mine");

        await mine.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, othersHeard);
    }

    [Fact]
    public async Task A_burst_of_changes_refreshes_a_page_a_few_times_at_most_and_always_after_the_last_one()
    {
        await using var client = live.NewClient();
        var refreshes = 0;
        var lastRefresh = DateTime.MinValue;
        await using var watch = await client.WatchAsync("operation:busy", () =>
        {
            Interlocked.Increment(ref refreshes);
            lastRefresh = DateTime.UtcNow;
            return Task.CompletedTask;
        });

        var started = DateTime.UtcNow;
        DateTime lastChange = started;
        while (DateTime.UtcNow - started < TimeSpan.FromSeconds(1))
        {
            Publisher.Changed("operation:busy");
            lastChange = DateTime.UtcNow;
            await Task.Delay(10);
        }
        await Task.Delay(1500);

        Assert.InRange(refreshes, 1, 6); // 4 a second over a one-second burst, plus the trailing one
        Assert.True(lastRefresh >= lastChange - TimeSpan.FromMilliseconds(150), "the page must refresh after the last change");
    }

    [Fact]
    public async Task A_slow_refresh_is_not_overlapped_and_the_next_starts_300_ms_after_it_ended()
    {
        await using var client = live.NewClient();
        var running = 0;
        var overlapped = false;
        var runs = new List<(DateTime Start, DateTime End)>();
        await using var watch = await client.WatchAsync("operation:slow", async () =>
        {
            overlapped |= Interlocked.Increment(ref running) > 1;
            var start = DateTime.UtcNow;
            await Task.Delay(400); // a refresh behind a busy database
            lock (runs)
            {
                runs.Add((start, DateTime.UtcNow));
            }
            Interlocked.Decrement(ref running);
        });

        var started = DateTime.UtcNow;
        while (DateTime.UtcNow - started < TimeSpan.FromSeconds(2))
        {
            Publisher.Changed("operation:slow");
            await Task.Delay(20);
        }
        await Task.Delay(1500);

        Assert.False(overlapped, "a refresh started while the previous one still ran");
        Assert.InRange(runs.Count, 2, 6);
        for (var i = 1; i < runs.Count; i++)
        {
            Assert.True(runs[i].Start - runs[i - 1].End >= TimeSpan.FromMilliseconds(290), $"refresh {i} started {(runs[i].Start - runs[i - 1].End).TotalMilliseconds} ms after the previous ended");
        }
    }

    [Fact]
    public async Task The_hub_refuses_a_connection_without_a_token_or_cookie()
    {
        var url = live.App.Services.GetRequiredService<LiveEndpoint>().HubUrl!;
        await using var anonymous = new HubConnectionBuilder().WithUrl(url).Build();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.StartAsync());

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, error.StatusCode);
    }

    [Fact]
    public async Task A_forged_token_is_refused()
    {
        var url = live.App.Services.GetRequiredService<LiveEndpoint>().HubUrl!;
        await using var forged = new HubConnectionBuilder()
            .WithUrl(url, o => o.AccessTokenProvider = () => Task.FromResult<string?>("CfDJ8forged"))
            .Build();

        await Assert.ThrowsAsync<HttpRequestException>(() => forged.StartAsync());
    }
}
