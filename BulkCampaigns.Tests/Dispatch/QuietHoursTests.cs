using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Dispatch;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class QuietHoursTests
{
    private static readonly TimeZoneInfo London = TimeZoneInfo.FindSystemTimeZoneById("Europe/London");
    private static readonly TimeZoneInfo Tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");

    private static QuietHours Window(string start, string end, string zone = "UTC") =>
        new(TimeOnly.Parse(start, System.Globalization.CultureInfo.InvariantCulture), TimeOnly.Parse(end, System.Globalization.CultureInfo.InvariantCulture), zone);

    [Theory]
    [InlineData("13:00", true)]
    [InlineData("12:00", true)] // the start is inside
    [InlineData("14:00", false)] // the end is outside
    [InlineData("11:59", false)]
    [InlineData("23:00", false)]
    public void A_daytime_window_covers_from_its_start_up_to_its_end(string time, bool quiet) =>
        Assert.Equal(quiet, Window("12:00", "14:00").Covers(TimeOnly.Parse(time, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("21:00", true)]
    [InlineData("23:59", true)]
    [InlineData("00:00", true)]
    [InlineData("07:59", true)]
    [InlineData("08:00", false)]
    [InlineData("12:00", false)]
    [InlineData("20:59", false)]
    public void A_window_that_wraps_midnight_covers_the_night(string time, bool quiet) =>
        Assert.Equal(quiet, Window("21:00", "08:00").Covers(TimeOnly.Parse(time, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void Quiet_is_judged_in_the_given_zone()
    {
        // 22:30 UTC is 22:30 in London in winter and 07:30 the next morning in Tokyo.
        var instant = new DateTimeOffset(2026, 12, 1, 22, 30, 0, TimeSpan.Zero);
        var night = Window("21:00", "08:00");
        var evening = Window("18:00", "23:00");

        Assert.True(night.IsQuiet(instant, London));
        Assert.True(night.IsQuiet(instant, Tokyo));
        Assert.True(evening.IsQuiet(instant, London));
        Assert.False(evening.IsQuiet(instant, Tokyo));
    }

    [Fact]
    public void Before_midnight_inside_a_wrapping_window_the_next_allowed_instant_is_the_end_next_morning()
    {
        var instant = new DateTimeOffset(2026, 12, 1, 22, 30, 0, TimeSpan.Zero);

        Assert.Equal(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero), Window("21:00", "08:00").NextAllowed(instant, London));
    }

    [Fact]
    public void After_midnight_inside_a_wrapping_window_the_next_allowed_instant_is_the_end_that_morning()
    {
        // 22:30 UTC on 1 December is 07:30 on 2 December in Tokyo (UTC+9): the window ends half an hour later.
        var instant = new DateTimeOffset(2026, 12, 1, 22, 30, 0, TimeSpan.Zero);

        Assert.Equal(new DateTimeOffset(2026, 12, 1, 23, 0, 0, TimeSpan.Zero), Window("21:00", "08:00").NextAllowed(instant, Tokyo));
    }

    [Fact]
    public void Outside_the_window_the_next_allowed_instant_is_now()
    {
        var instant = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(instant, Window("21:00", "08:00").NextAllowed(instant, London));
    }

    [Fact]
    public void The_next_allowed_instant_follows_the_zone_summer_time()
    {
        // 1 July, 06:00 UTC is 07:00 in London (BST): quiet until 08:00 BST, which is 07:00 UTC.
        var instant = new DateTimeOffset(2026, 7, 1, 6, 0, 0, TimeSpan.Zero);

        Assert.Equal(new DateTimeOffset(2026, 7, 1, 7, 0, 0, TimeSpan.Zero), Window("21:00", "08:00").NextAllowed(instant, London));
    }

    [Fact]
    public void A_number_of_a_country_with_one_time_zone_gets_that_zone()
    {
        Assert.Equal("Europe/Berlin", RecipientTimeZones.CountryZone("+4915123456789")?.Id);
        Assert.Equal("Asia/Tokyo", RecipientTimeZones.CountryZone("+819012345678")?.Id);
        Assert.Equal("Europe/Paris", RecipientTimeZones.For("+33612345678", Tokyo).Id);
    }

    [Fact]
    public void Sending_time_that_runs_into_quiet_hours_finishes_after_the_window()
    {
        // 20:00 London in summer (19:00 UTC), three hours of sending, quiet 21:00-08:00: one hour tonight, two tomorrow.
        var start = new DateTimeOffset(2026, 7, 1, 19, 0, 0, TimeSpan.Zero);
        Assert.Equal(new DateTimeOffset(2026, 7, 2, 9, 0, 0, TimeSpan.Zero), Window("21:00", "08:00").FinishAfter(start, TimeSpan.FromHours(3), London));
        // Inside the window the clock starts at its end; outside it nothing is added.
        Assert.Equal(new DateTimeOffset(2026, 7, 2, 7, 30, 0, TimeSpan.Zero), Window("21:00", "08:00").FinishAfter(start.AddHours(3), TimeSpan.FromMinutes(30), London));
        Assert.Equal(start.AddMinutes(45), Window("21:00", "08:00").FinishAfter(start, TimeSpan.FromMinutes(45), London));
    }

    [Fact]
    public void A_country_whose_listed_zones_all_keep_the_same_clock_counts_as_one_zone()
    {
        // libphonenumber lists London, Guernsey, Jersey and the Isle of Man for +44: one clock.
        var uk = RecipientTimeZones.CountryZone("+447911123456");
        Assert.NotNull(uk);
        Assert.Equal(TimeSpan.FromHours(1), uk.GetUtcOffset(new DateTimeOffset(2027, 7, 1, 12, 0, 0, TimeSpan.Zero)));
        Assert.Equal(TimeSpan.Zero, uk.GetUtcOffset(new DateTimeOffset(2027, 1, 1, 12, 0, 0, TimeSpan.Zero)));
        Assert.Same(uk, RecipientTimeZones.For("+447911123456", Tokyo));
    }

    [Fact]
    public void A_number_of_a_country_with_several_time_zones_falls_back_to_the_campaign_zone()
    {
        Assert.Null(RecipientTimeZones.CountryZone("+12025550123")); // NANP spans many zones
        Assert.Null(RecipientTimeZones.CountryZone("+61412345678")); // Australia too
        Assert.Same(Tokyo, RecipientTimeZones.For("+12025550123", Tokyo));
        Assert.Same(London, RecipientTimeZones.For("+61412345678", London));
    }

    [Theory]
    [InlineData("+12025550123", 1)]
    [InlineData("+4915123456789", 49)]
    [InlineData("+35312345678", 353)]
    [InlineData("12025550123", 0)]
    [InlineData("+", 0)]
    public void The_calling_code_is_read_from_the_E164_address(string address, int code) =>
        Assert.Equal(code, RecipientTimeZones.CallingCode(address));

    [Fact]
    public void A_batch_holds_each_recipient_by_its_own_zone_until_its_window_ends()
    {
        // 22:30 UTC: 23:30 in Berlin (quiet until 08:00 Berlin = 07:00 UTC); the US number is judged in the campaign's
        // zone, Tokyo, where it is 07:30 (quiet until 23:00 UTC); in Tokyo itself too.
        var instant = new DateTimeOffset(2026, 12, 1, 22, 30, 0, TimeSpan.Zero);
        var check = new QuietHoursCheck(Window("21:00", "08:00", "Asia/Tokyo"), instant);
        var daytime = new QuietHoursCheck(Window("12:00", "14:00", "Asia/Tokyo"), instant);

        Assert.Equal(new DateTimeOffset(2026, 12, 2, 7, 0, 0, TimeSpan.Zero), check.WaitUntil("+4915123456789"));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 23, 0, 0, TimeSpan.Zero), check.WaitUntil("+12025550123"));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 23, 0, 0, TimeSpan.Zero), check.WaitUntil("+819012345678"));
        Assert.Null(daytime.WaitUntil("+4915123456789"));
        Assert.Null(daytime.WaitUntil("+12025550123"));
    }

    [Theory]
    [InlineData("21:00", true)]
    [InlineData("08:30", true)]
    [InlineData("8:00", false)]
    [InlineData("24:00", false)]
    [InlineData("21:00:00", false)]
    [InlineData("9pm", false)]
    public void Times_are_read_as_24_hour_HH_mm(string text, bool ok) => Assert.Equal(ok, QuietHours.TryParseTime(text, out _));

    [Fact]
    public void Only_IANA_time_zones_are_accepted()
    {
        Assert.NotNull(QuietHours.FindIanaZone("Europe/London"));
        Assert.Null(QuietHours.FindIanaZone("Mars/Olympus_Mons"));
        Assert.Null(QuietHours.FindIanaZone(""));
    }
}
