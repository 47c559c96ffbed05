using System.Globalization;
using System.Security.Claims;
using BulkCampaigns.Auth;
using BulkCampaigns.Data;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.JSInterop;
using NodaTime;
using NodaTime.TimeZones;

namespace BulkCampaigns.Components.Shared;

/// <summary>Where the zone times are shown in came from.</summary>
public enum ZoneSource
{
    /// <summary>Nothing known about the user's zone (yet): times are in UTC.</summary>
    Utc,
    /// <summary>The zone the browser reports.</summary>
    Browser,
    /// <summary>The zone the user chose on their profile.</summary>
    Profile,
}

/// <summary>
/// The signed-in user's time zone for one circuit: the one chosen on their profile, else the browser's (asked once),
/// else UTC. Every time the app shows goes through it, always with its zone's marker, so "09:30" is never ambiguous.
/// Zones are IANA ids read from NodaTime's own copy of the tz database, the same on every machine.
/// </summary>
public sealed class UserClock(IJSRuntime js, AuthenticationStateProvider? auth = null, IDbContextFactory<AppDbContext>? dbFactory = null)
{
    private Task? _loading;

    /// <summary>Raised when the zone changed (the browser answered, or the user saved another one).</summary>
    public event Action? Changed;

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    /// <summary>The IANA id of <see cref="Zone"/> (e.g. "Europe/Paris"; "UTC" when nothing is known).</summary>
    public string ZoneId => Zone.Id;

    public ZoneSource Source { get; private set; } = ZoneSource.Utc;

    /// <summary>The zone the user chose on their profile, when they chose one.</summary>
    public string? ProfileZoneId { get; private set; }

    /// <summary>The zone the browser reported, once it has.</summary>
    public string? BrowserZoneId { get; private set; }

    /// <summary>
    /// Reads the profile's zone and asks the browser for its own, once per circuit. Safe to call from every
    /// component: they share one load. While prerendering the browser cannot be asked: times are then
    /// in the profile's zone or UTC, and the interactive circuit's own clock asks.
    /// </summary>
    public Task LoadAsync() => _loading ??= LoadOnceAsync();

    /// <summary>The instant as a local time in the user's zone.</summary>
    public DateTimeOffset ToLocal(DateTimeOffset instant) => ToLocal(instant, Zone);

    /// <summary>"1 Dec 2026, 09:30 CET" in the user's zone.</summary>
    public string Format(DateTimeOffset instant, bool seconds = false) => Format(instant, Zone, seconds);

    /// <summary>The instant the given day starts in the user's zone (midnight, or the first moment after a DST gap).</summary>
    public DateTimeOffset StartOfDay(DateOnly day) => Zone.AtStartOfDay(LocalDate.FromDateOnly(day)).ToDateTimeOffset();

    /// <summary>The user's zone's marker at that instant ("CET", "CEST", "UTC", "UTC+05:30").</summary>
    public string Marker(DateTimeOffset instant) => Marker(instant, Zone);

    /// <summary>Saves the user's choice on their profile (null: follow the browser) and shows times in it from now on.</summary>
    public async Task SaveProfileZoneAsync(string? zoneId, CancellationToken ct = default)
    {
        var id = string.IsNullOrWhiteSpace(zoneId) ? null : FindZone(zoneId)?.Id
            ?? throw new ArgumentException($"\"{zoneId}\" is not a time zone this app knows.", nameof(zoneId));
        if (await UserIdAsync() is not { } userId || dbFactory is null)
        {
            throw new InvalidOperationException("Only a signed-in user has a profile to save a time zone on.");
        }
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await db.Set<AppUser>().Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.TimeZoneId, id), ct);
        }
        ProfileZoneId = id;
        Apply();
    }

    private async Task LoadOnceAsync()
    {
        ProfileZoneId = await ReadProfileZoneAsync();
        Apply();
        try
        {
            BrowserZoneId = await js.InvokeAsync<string?>("bulkCampaigns.timeZone");
        }
        catch (Exception e) when (e is InvalidOperationException or JSException or JSDisconnectedException or TaskCanceledException)
        {
            // Prerendering (no browser yet: the interactive circuit has a clock of its own that asks), or the browser
            // could not say: times stay in the profile's zone or UTC, still marked as such.
            return;
        }
        Apply();
    }

    private void Apply()
    {
        var (zone, source) = Resolve(ProfileZoneId, BrowserZoneId);
        if (zone.Id == Zone.Id && source == Source)
        {
            return;
        }
        Zone = zone;
        Source = source;
        Changed?.Invoke();
    }

    private async Task<string?> ReadProfileZoneAsync()
    {
        if (dbFactory is null || await UserIdAsync() is not { } userId)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync();
        return await db.Set<AppUser>().AsNoTracking().Where(u => u.Id == userId).Select(u => u.TimeZoneId).FirstOrDefaultAsync();
    }

    private async Task<string?> UserIdAsync()
    {
        if (auth is null)
        {
            return null;
        }
        var state = await auth.GetAuthenticationStateAsync();
        return state.User.FindFirstValue(ClaimTypes.NameIdentifier);
    }

    /// <summary>The profile's zone if it is a known one, else the browser's if known, else UTC.</summary>
    public static (DateTimeZone Zone, ZoneSource Source) Resolve(string? profileZoneId, string? browserZoneId) =>
        FindZone(profileZoneId) is { } profile ? (profile, ZoneSource.Profile)
        : FindZone(browserZoneId) is { } browser ? (browser, ZoneSource.Browser)
        : (DateTimeZone.Utc, ZoneSource.Utc);

    /// <summary>The zone of an IANA id or one of its old aliases ("Asia/Calcutta"), as its canonical zone; null if unknown.</summary>
    public static DateTimeZone? FindZone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return null;
        }
        var source = TzdbDateTimeZoneSource.Default;
        return source.CanonicalIdMap.TryGetValue(id.Trim(), out var canonical) ? DateTimeZoneProviders.Tzdb[canonical] : null;
    }

    /// <summary>The zones a user can pick: the tz database's places (one per zone), and UTC.</summary>
    public static IReadOnlyList<string> ZoneIds { get; } =
    [
        "UTC",
        .. (TzdbDateTimeZoneSource.Default.ZoneLocations ?? []).Select(l => l.ZoneId).Distinct().Order(StringComparer.Ordinal),
    ];

    /// <summary>
    /// The zones whose id holds every word typed, in any case; a space stands for the ids' underscore
    /// ("new york" finds America/New_York, "paris" Europe/Paris). Nothing typed: every zone.
    /// </summary>
    public static IEnumerable<string> SearchZones(string? text)
    {
        var words = (text ?? "").Split([' ', '_', '/'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return ZoneIds.Where(id => words.All(w => id.Contains(w, StringComparison.OrdinalIgnoreCase)));
    }

    public static DateTimeOffset ToLocal(DateTimeOffset instant, DateTimeZone zone) =>
        Instant.FromDateTimeOffset(instant).InZone(zone).ToDateTimeOffset();

    public static string Format(DateTimeOffset instant, DateTimeZone zone, bool seconds = false)
    {
        var local = ToLocal(instant, zone);
        var pattern = seconds ? "d MMM yyyy, HH:mm:ss" : "d MMM yyyy, HH:mm";
        return local.ToString(pattern, CultureInfo.InvariantCulture) + " " + Marker(instant, zone);
    }

    /// <summary>
    /// The tz database's abbreviation in force at that instant ("CET" in winter, "CEST" in summer). Zones that have
    /// no letters there ("+04") are written as their offset from UTC, "UTC+4", so every marker reads the same way.
    /// </summary>
    public static string Marker(DateTimeOffset instant, DateTimeZone zone)
    {
        var interval = zone.GetZoneInterval(Instant.FromDateTimeOffset(instant));
        var name = interval.Name;
        if (name.Length > 0 && name.All(char.IsLetter))
        {
            return name;
        }
        var offset = interval.WallOffset.ToTimeSpan();
        var sign = offset < TimeSpan.Zero ? "-" : "+";
        offset = offset.Duration();
        return offset == TimeSpan.Zero ? "UTC"
            : offset.Minutes == 0 ? $"UTC{sign}{offset.Hours}"
            : $"UTC{sign}{offset.Hours}:{offset.Minutes:00}";
    }
}
