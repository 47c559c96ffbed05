using System.Security.Claims;
using BulkCampaigns.Auth;
using BulkCampaigns.Components.Shared;
using BulkCampaigns.Data;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.JSInterop;
using DateTimeZone = NodaTime.DateTimeZone;

namespace BulkCampaigns.Tests.Components.Shared;

public sealed class UserClockTests
{
    private static readonly DateTimeZone Paris = UserClock.FindZone("Europe/Paris")!;

    [Fact]
    public void A_winter_time_in_Paris_is_marked_CET_and_a_summer_one_CEST()
    {
        Assert.Equal("15 Jan 2026, 09:30 CET", UserClock.Format(new DateTimeOffset(2026, 1, 15, 8, 30, 0, TimeSpan.Zero), Paris));
        Assert.Equal("15 Jul 2026, 09:30 CEST", UserClock.Format(new DateTimeOffset(2026, 7, 15, 7, 30, 0, TimeSpan.Zero), Paris));
    }

    [Fact]
    public void The_spring_forward_hour_is_skipped_and_the_marker_changes_with_it()
    {
        // Europe switches at 01:00 UTC on the last Sunday of March: 01:59 CET is followed by 03:00 CEST.
        var switchAt = new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero);

        Assert.Equal("29 Mar 2026, 01:59:59 CET", UserClock.Format(switchAt.AddSeconds(-1), Paris, seconds: true));
        Assert.Equal("29 Mar 2026, 03:00:00 CEST", UserClock.Format(switchAt, Paris, seconds: true));
    }

    [Fact]
    public void The_fall_back_hour_shows_twice_told_apart_by_its_marker()
    {
        // 25 Oct 2026: 02:30 happens at 00:30 UTC (summer time) and again at 01:30 UTC (winter time).
        Assert.Equal("25 Oct 2026, 02:30 CEST", UserClock.Format(new DateTimeOffset(2026, 10, 25, 0, 30, 0, TimeSpan.Zero), Paris));
        Assert.Equal("25 Oct 2026, 02:30 CET", UserClock.Format(new DateTimeOffset(2026, 10, 25, 1, 30, 0, TimeSpan.Zero), Paris));
    }

    [Theory]
    [InlineData("Asia/Dubai", "1 Dec 2026, 12:30 UTC+4")]
    [InlineData("Asia/Kathmandu", "1 Dec 2026, 14:15 UTC+5:45")]
    [InlineData("America/Sao_Paulo", "1 Dec 2026, 05:30 UTC-3")]
    [InlineData("America/New_York", "1 Dec 2026, 03:30 EST")]
    [InlineData("UTC", "1 Dec 2026, 08:30 UTC")]
    public void Every_zone_gets_a_marker_even_those_without_letters(string zone, string expected) =>
        Assert.Equal(expected, UserClock.Format(new DateTimeOffset(2026, 12, 1, 8, 30, 0, TimeSpan.Zero), UserClock.FindZone(zone)!));

    [Fact]
    public void The_profile_zone_wins_then_the_browser_zone_then_UTC()
    {
        Assert.Equal(("Asia/Tokyo", ZoneSource.Profile), Ids(UserClock.Resolve("Asia/Tokyo", "Europe/Paris")));
        Assert.Equal(("Europe/Paris", ZoneSource.Browser), Ids(UserClock.Resolve(null, "Europe/Paris")));
        Assert.Equal(("Europe/Paris", ZoneSource.Browser), Ids(UserClock.Resolve("Mars/Olympus", "Europe/Paris")));
        Assert.Equal(("UTC", ZoneSource.Utc), Ids(UserClock.Resolve(null, null)));
        Assert.Equal(("UTC", ZoneSource.Utc), Ids(UserClock.Resolve("", "not a zone")));

        static (string, ZoneSource) Ids((DateTimeZone Zone, ZoneSource Source) r) => (r.Zone.Id, r.Source);
    }

    [Fact]
    public void An_old_alias_a_browser_may_report_is_taken_as_its_zone()
    {
        Assert.Equal("Asia/Kolkata", UserClock.FindZone("Asia/Calcutta")!.Id);
        Assert.Contains("Europe/Paris", UserClock.ZoneIds);
        Assert.Equal("UTC", UserClock.ZoneIds[0]);
    }
}

/// <summary>The clock of a signed-in user of a real app: their saved zone, over what the browser says.</summary>
public sealed class UserClockProfileTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task A_zone_saved_on_the_profile_wins_over_the_browser_and_is_kept_for_the_next_visit()
    {
        var userId = await NewUserAsync();
        var first = Clock(userId, browserZone: "America/Chicago");
        await first.LoadAsync();
        Assert.Equal(("America/Chicago", ZoneSource.Browser), (first.ZoneId, first.Source));
        var changes = 0;
        first.Changed += () => changes++;

        await first.SaveProfileZoneAsync("Asia/Tokyo");

        Assert.Equal(("Asia/Tokyo", ZoneSource.Profile), (first.ZoneId, first.Source));
        Assert.Equal(1, changes);
        var next = Clock(userId, browserZone: "America/Chicago");
        await next.LoadAsync();
        Assert.Equal(("Asia/Tokyo", ZoneSource.Profile), (next.ZoneId, next.Source));
    }

    [Fact]
    public async Task Clearing_the_profile_zone_goes_back_to_the_browser_zone()
    {
        var userId = await NewUserAsync();
        var clock = Clock(userId, browserZone: "Europe/Paris");
        await clock.LoadAsync();
        await clock.SaveProfileZoneAsync("Asia/Tokyo");

        await clock.SaveProfileZoneAsync(null);

        Assert.Equal(("Europe/Paris", ZoneSource.Browser), (clock.ZoneId, clock.Source));
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.Null((await db.Set<AppUser>().SingleAsync(u => u.Id == userId)).TimeZoneId);
    }

    [Fact]
    public async Task An_unknown_zone_is_refused_and_the_saved_one_is_kept()
    {
        var userId = await NewUserAsync();
        var clock = Clock(userId, browserZone: null);
        await clock.LoadAsync();
        await clock.SaveProfileZoneAsync("Europe/Paris");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => clock.SaveProfileZoneAsync("Europe/Atlantis"));

        Assert.Contains("Europe/Atlantis", error.Message, StringComparison.Ordinal);
        Assert.Equal("Europe/Paris", clock.ZoneId);
    }

    private UserClock Clock(string userId, string? browserZone) =>
        new(new BrowserZone(browserZone), new SignedIn(userId), app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>());

    private async Task<string> NewUserAsync()
    {
        using var scope = app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var email = $"clock-{Guid.NewGuid():N}@example.com";
        var result = await Bootstrap.CreateUserAsync(users, email, "a long password", Roles.Marketer);
        Assert.True(result.Succeeded);
        return (await users.FindByEmailAsync(email))!.Id;
    }

    private sealed class SignedIn(string userId) : AuthenticationStateProvider
    {
        public override Task<AuthenticationState> GetAuthenticationStateAsync() =>
            Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, userId)], "test"))));
    }

    /// <summary>The browser's answer to the one call the clock makes.</summary>
    private sealed class BrowserZone(string? zone) : IJSRuntime
    {
        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, object?[]? args) =>
            identifier == "bulkCampaigns.timeZone" ? ValueTask.FromResult((TValue)(object?)zone!) : throw new InvalidOperationException(identifier);

        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, CancellationToken cancellationToken, object?[]? args) => InvokeAsync<TValue>(identifier, args);
    }
}

public sealed class LocalTimeTests : MudTestContext
{
    private static readonly DateTimeOffset Winter = new(2026, 12, 1, 8, 30, 0, TimeSpan.Zero);

    [Fact]
    public void A_time_is_shown_in_the_browser_zone_with_its_marker()
    {
        JSInterop.Setup<string?>("bulkCampaigns.timeZone").SetResult("Europe/Paris");

        var cut = Render<LocalTime>(p => p.Add(c => c.Value, Winter));

        cut.WaitForAssertion(() => Assert.Equal("1 Dec 2026, 09:30 CET", cut.Find("time").TextContent));
        Assert.Equal("2026-12-01T08:30:00Z", cut.Find("time").GetAttribute("datetime"));
    }

    [Fact]
    public void Without_an_answer_from_the_browser_a_time_is_shown_in_UTC_marked_so()
    {
        var cut = Render<LocalTime>(p => p.Add(c => c.Value, Winter).Add(c => c.Seconds, true));

        Assert.Equal("1 Dec 2026, 08:30:00 UTC", cut.Find("time").TextContent);
    }

    [Fact]
    public void A_missing_time_shows_the_given_words()
    {
        var cut = Render<LocalTime>(p => p.Add(c => c.Value, null).Add(c => c.Empty, "never"));

        Assert.Equal("never", cut.Markup.Trim());
    }
}
