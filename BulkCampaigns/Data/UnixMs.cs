using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace BulkCampaigns.Data;

/// <summary>
/// Dispatch tables keep time as Unix milliseconds: the hot paths write a million rows with raw SQL, and an
/// integer is cheaper to write, compare and index than text.
/// </summary>
public static class UnixMs
{
    public static readonly ValueConverter<DateTimeOffset, long> Converter =
        new(v => v.ToUnixTimeMilliseconds(), v => DateTimeOffset.FromUnixTimeMilliseconds(v));

    public static readonly ValueConverter<DateTimeOffset?, long?> NullableConverter =
        new(v => v.HasValue ? v.Value.ToUnixTimeMilliseconds() : null, v => v.HasValue ? DateTimeOffset.FromUnixTimeMilliseconds(v.Value) : null);

    public static long Now(TimeProvider clock) => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public static DateTimeOffset? From(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;
}
