using System.Globalization;
using PhoneNumbers;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// "No sends between <see cref="Start"/> and <see cref="End"/>" in the recipient's local time. The window may wrap
/// midnight (21:00–08:00); it includes its start and excludes its end. <see cref="TimeZoneId"/> is the campaign's zone,
/// used for a number whose country spans several zones (or is unknown).
/// </summary>
public sealed record QuietHours(TimeOnly Start, TimeOnly End, string TimeZoneId)
{
    public const string TimeFormat = "HH:mm";

    /// <summary>True when a wall-clock time falls inside the window.</summary>
    public bool Covers(TimeOnly local) => Start <= End
        ? local >= Start && local < End
        : local >= Start || local < End;

    public bool IsQuiet(DateTimeOffset instant, TimeZoneInfo zone) =>
        Covers(TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime));

    /// <summary>The earliest instant at or after <paramref name="instant"/> that is outside the window in <paramref name="zone"/>.</summary>
    public DateTimeOffset NextAllowed(DateTimeOffset instant, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone).DateTime;
        var time = TimeOnly.FromDateTime(local);
        if (!Covers(time))
        {
            return instant;
        }
        // Inside a wrapping window before midnight, the window ends tomorrow.
        var endDate = Start > End && time >= Start ? local.Date.AddDays(1) : local.Date;
        var end = DateTime.SpecifyKind(endDate + End.ToTimeSpan(), DateTimeKind.Unspecified);
        // An end the clocks skip (spring forward) is over when the clocks jump: the first minute that exists after it.
        while (zone.IsInvalidTime(end))
        {
            end = end.AddMinutes(1);
        }
        var utc = zone.IsAmbiguousTime(end)
            // The end happens twice (fall back): the window is over at its first occurrence still ahead.
            ? zone.GetAmbiguousTimeOffsets(end).Select(o => new DateTimeOffset(end, o)).Where(t => t >= instant).DefaultIfEmpty(instant).Min()
            : new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(end, zone), TimeSpan.Zero);
        return utc > instant ? utc : instant;
    }

    /// <summary>
    /// When <paramref name="sending"/> of sending time that starts at <paramref name="start"/> ends, counting only the
    /// time outside the window in <paramref name="zone"/> (walked a minute at a time, which is plenty for an estimate).
    /// </summary>
    public DateTimeOffset FinishAfter(DateTimeOffset start, TimeSpan sending, TimeZoneInfo zone)
    {
        var at = NextAllowed(start, zone);
        var left = sending;
        while (left > TimeSpan.Zero)
        {
            if (IsQuiet(at, zone))
            {
                at = NextAllowed(at, zone);
                continue;
            }
            var step = left < TimeSpan.FromMinutes(1) ? left : TimeSpan.FromMinutes(1);
            at += step;
            left -= step;
        }
        return at;
    }

    /// <summary>Reads "HH:mm" (24-hour).</summary>
    /// <summary>The quiet hours stored as three columns (an operation's), or null when any of them is missing.</summary>
    public static QuietHours? Of(TimeOnly? start, TimeOnly? end, string? timeZoneId) =>
        start is { } s && end is { } e && timeZoneId is { } zone ? new QuietHours(s, e, zone) : null;

    public static bool TryParseTime(string? text, out TimeOnly time) =>
        TimeOnly.TryParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out time);

    /// <summary>An IANA time zone the system knows (what the API accepts), or null.</summary>
    public static TimeZoneInfo? FindIanaZone(string? id) =>
        !string.IsNullOrWhiteSpace(id) && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) && zone.HasIanaId ? zone : null;
}

/// <summary>
/// The time zone of a recipient: its country's, when the country (the number's calling code) has exactly one,
/// else the campaign's. Looked up once per calling code and kept, since dispatch asks for every message.
/// </summary>
public static class RecipientTimeZones
{
    private static readonly PhoneNumberToTimeZonesMapper Mapper = PhoneNumberToTimeZonesMapper.GetInstance();
    private static readonly HashSet<int> CallingCodes = PhoneNumberUtil.GetInstance().GetSupportedCallingCodes();

    // Index: calling code (1–999). A slot is filled at most a few times over (the same answer each time), so no lock.
    private static readonly ZoneSlot?[] ByCallingCode = new ZoneSlot?[1000];

    /// <summary>The zone of an E.164 address's country, or null when its country has several zones or none known.</summary>
    public static TimeZoneInfo? CountryZone(string e164)
    {
        var code = CallingCode(e164);
        if (code <= 0)
        {
            return null;
        }
        var slot = ByCallingCode[code];
        if (slot is null)
        {
            slot = new ZoneSlot(Lookup(code));
            ByCallingCode[code] = slot;
        }
        return slot.Zone;
    }

    /// <summary>The zone of the recipient, falling back to <paramref name="campaignZone"/>.</summary>
    public static TimeZoneInfo For(string e164, TimeZoneInfo campaignZone) => CountryZone(e164) ?? campaignZone;

    /// <summary>Calling codes are prefix-free, 1–3 digits: the first known one read after '+' is the number's.</summary>
    internal static int CallingCode(string e164)
    {
        if (e164.Length < 2 || e164[0] != '+')
        {
            return 0;
        }
        var code = 0;
        for (var i = 1; i <= 3 && i < e164.Length; i++)
        {
            var digit = e164[i] - '0';
            if (digit is < 0 or > 9)
            {
                return 0;
            }
            code = code * 10 + digit;
            if (CallingCodes.Contains(code))
            {
                return code;
            }
        }
        return 0;
    }

    private static TimeZoneInfo? Lookup(int callingCode)
    {
        // A national number of 0 matches no area prefix, so the mapper answers with the zones listed for the whole
        // calling code (the country level).
        var number = new PhoneNumber.Builder().SetCountryCode(callingCode).SetNationalNumber(0).Build();
        // Zones that keep the same clock count as one: +44 lists London, Guernsey, Jersey and the Isle of Man.
        var zones = new List<TimeZoneInfo>();
        foreach (var id in Mapper.GetTimeZonesForGeographicalNumber(number))
        {
            if (id == Mapper.GetUnknownTimeZone() || !TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone))
            {
                return null;
            }
            zones.Add(zone);
        }
        return zones.Count > 0 && zones.All(z => SameClockAhead(z, zones[0])) ? zones[0] : null;
    }

    /// <summary>
    /// True when two zones show the same time every hour of the next two years (their rules may differ in the past:
    /// Jersey's local mean time of the 1800s is not London's, so <see cref="TimeZoneInfo.HasSameRules"/> says no).
    /// </summary>
    private static bool SameClockAhead(TimeZoneInfo a, TimeZoneInfo b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }
        var start = DateTimeOffset.UtcNow;
        start = new DateTimeOffset(start.Year, start.Month, start.Day, start.Hour, 0, 0, TimeSpan.Zero);
        for (var hour = 0; hour < 2 * 366 * 24; hour++)
        {
            var instant = start.AddHours(hour);
            if (a.GetUtcOffset(instant) != b.GetUtcOffset(instant))
            {
                return false;
            }
        }
        return true;
    }

    private sealed record ZoneSlot(TimeZoneInfo? Zone);
}

/// <summary>
/// One batch's view of quiet hours at one instant: each distinct zone is judged once, so a batch of a thousand
/// recipients in a few countries costs a few zone conversions.
/// </summary>
public sealed class QuietHoursCheck(QuietHours hours, DateTimeOffset now)
{
    private readonly TimeZoneInfo _campaignZone = QuietHours.FindIanaZone(hours.TimeZoneId) ?? TimeZoneInfo.Utc;
    private readonly Dictionary<TimeZoneInfo, DateTimeOffset> _allowedFrom = new(ReferenceEqualityComparer.Instance);

    /// <summary>When the recipient may get a message: <c>null</c> now, else the end of its quiet hours.</summary>
    public DateTimeOffset? WaitUntil(string e164)
    {
        var zone = RecipientTimeZones.For(e164, _campaignZone);
        if (!_allowedFrom.TryGetValue(zone, out var at))
        {
            at = hours.NextAllowed(now, zone);
            _allowedFrom[zone] = at;
        }
        return at > now ? at : null;
    }
}
