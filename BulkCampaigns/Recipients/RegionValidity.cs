using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using PhoneNumbers;

namespace BulkCampaigns.Recipients;

/// <summary>
/// libphonenumber's "valid for region" answer for a national significant number, from libphonenumber's own
/// metadata, with the patterns compiled once. The library matches them through the regex interpreter, one
/// number type after another: about 3.5 µs a number, most of a million-row import's validation.
/// The rule is the library's (PhoneNumberUtil.GetNumberTypeHelper): the general description matches, and so
/// does the description of one number type; a description lists its possible lengths (none listed: any).
/// A test checks that the answers are the library's for many numbers of many regions.
/// </summary>
public sealed class RegionValidity
{
    private static readonly ConcurrentDictionary<string, RegionValidity?> Regions = new(StringComparer.Ordinal);

    private readonly Description _general;
    private readonly Description[] _types;

    private RegionValidity(PhoneMetadata metadata)
    {
        _general = new Description(metadata.GeneralDesc);
        // The number types GetNumberTypeHelper tells apart; the commonest first, as only validity is wanted here.
        _types = new[]
            {
                metadata.FixedLine, metadata.Mobile, metadata.TollFree, metadata.PremiumRate, metadata.SharedCost,
                metadata.Voip, metadata.PersonalNumber, metadata.Pager, metadata.Uan, metadata.Voicemail,
            }
            .Where(d => d is not null && !string.IsNullOrEmpty(d.NationalNumberPattern))
            .Select(d => new Description(d))
            .ToArray();
    }

    /// <summary>The rules of a region libphonenumber has metadata for; null for any other.</summary>
    public static RegionValidity? For(string region) =>
        Regions.GetOrAdd(region, static r => PhoneNumberUtil.GetInstance().GetMetadataForRegion(r) is { } metadata ? new RegionValidity(metadata) : null);

    /// <summary>True when libphonenumber would call this national significant number (no leading zero) valid for the region.</summary>
    public bool IsValid(ReadOnlySpan<char> nationalNumber)
    {
        if (!_general.Matches(nationalNumber))
        {
            return false;
        }
        foreach (var type in _types)
        {
            if (type.Matches(nationalNumber))
            {
                return true;
            }
        }
        return false;
    }

    private sealed class Description(PhoneNumberDesc desc)
    {
        private readonly HashSet<int>? _lengths = desc.PossibleLengthCount == 0 ? null : [.. desc.PossibleLengthList];
        private readonly Regex? _pattern = string.IsNullOrEmpty(desc.NationalNumberPattern)
            ? null
            : new Regex("^(?:" + desc.NationalNumberPattern + ")$", RegexOptions.Compiled | RegexOptions.CultureInvariant);

        public bool Matches(ReadOnlySpan<char> number) =>
            (_lengths is null || _lengths.Contains(number.Length)) && _pattern is not null && _pattern.IsMatch(number);
    }
}
