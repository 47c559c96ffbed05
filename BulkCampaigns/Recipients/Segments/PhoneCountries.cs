using System.Collections.Concurrent;
using System.Globalization;
using PhoneNumbers;

namespace BulkCampaigns.Recipients.Segments;

/// <summary>
/// Which E.164 addresses belong to a country, as ranges of address prefixes, so a country condition is plain
/// comparisons on the stored address (an index-friendly text range, in any SQL dialect) rather than a phone-number
/// parse per row. A calling code held by one country is one prefix (<c>+44</c> is not; <c>+33</c> is). A code shared by
/// several (<c>+1</c>: the US, Canada and the Caribbean; <c>+7</c>; <c>+44</c> with Guernsey, Jersey and Man) is split by
/// asking libphonenumber which country each four-digit national prefix belongs to, once per process.
/// </summary>
public static class PhoneCountries
{
    private const int ProbeDigits = 4;
    private static readonly ConcurrentDictionary<string, IReadOnlyList<(string From, string To)>> Cache = new();

    /// <summary>Half-open text ranges [From, To) of addresses in <paramref name="region"/>.</summary>
    public static IReadOnlyList<(string From, string To)> Ranges(string region) => Cache.GetOrAdd(region, Build);

    private static IReadOnlyList<(string From, string To)> Build(string region)
    {
        var util = PhoneNumberUtil.GetInstance();
        var code = util.GetCountryCodeForRegion(region);
        var cc = "+" + code.ToString(CultureInfo.InvariantCulture);
        var sharers = util.GetRegionCodesForCountryCode(code);
        if (code == 0)
        {
            return [];
        }
        if (sharers.Count <= 1)
        {
            return [(cc, cc + ":")]; // ':' sorts just after '9': every address under the calling code
        }
        var owners = Owners(code);
        var ranges = new List<(string, string)>();
        var start = -1;
        for (var p = 0; p <= owners.Length; p++)
        {
            // A prefix no valid number has (owner null) joins whichever run it sits in: it changes nothing and keeps runs long.
            var inside = p < owners.Length && (owners[p] == region || (owners[p] is null && start >= 0));
            if (inside && start < 0)
            {
                start = p;
            }
            else if (!inside && start >= 0)
            {
                var end = p;
                while (end > start && owners[end - 1] is null)
                {
                    end--; // trailing prefixes nobody owns need not be listed
                }
                ranges.Add((cc + Digits(start), end == owners.Length ? cc + ":" : cc + Digits(end)));
                start = -1;
            }
        }
        return ranges;
    }

    private static readonly ConcurrentDictionary<int, string?[]> OwnersCache = new();

    private static string?[] Owners(int code) => OwnersCache.GetOrAdd(code, c =>
    {
        var util = PhoneNumberUtil.GetInstance();
        var main = util.GetRegionCodeForCountryCode(c);
        var example = util.GetExampleNumber(main);
        var length = example is null ? 10 : example.NationalNumber.ToString(CultureInfo.InvariantCulture).Length;
        const string Fill = "234567890123456";
        var owners = new string?[(int)Math.Pow(10, ProbeDigits)];
        for (var p = 0; p < owners.Length; p++)
        {
            var national = Digits(p) + Fill[..Math.Max(0, length - ProbeDigits)];
            try
            {
                var number = util.Parse("+" + c.ToString(CultureInfo.InvariantCulture) + national, null);
                var owner = util.GetRegionCodeForNumber(number);
                owners[p] = owner is null or "ZZ" ? null : owner;
            }
            catch (NumberParseException)
            {
                owners[p] = null;
            }
        }
        return owners;
    });

    private static string Digits(int p) => p.ToString("D" + ProbeDigits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
