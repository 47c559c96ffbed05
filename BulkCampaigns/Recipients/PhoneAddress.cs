using PhoneNumbers;

namespace BulkCampaigns.Recipients;

/// <summary>
/// E.164 normalization with libphonenumber: a number written with <c>+</c> may be of any region,
/// a national one is read in the default region. Used by imports, the API and suppressions alike.
/// </summary>
public static class PhoneAddress
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    public static bool TryNormalize(string? input, string defaultRegion, out string e164, out string error)
    {
        e164 = "";
        var text = input?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "the address is empty";
            return false;
        }
        var region = string.IsNullOrWhiteSpace(defaultRegion) ? "US" : defaultRegion.Trim().ToUpperInvariant();
        PhoneNumber number;
        try
        {
            number = Util.Parse(text, region);
        }
        catch (NumberParseException)
        {
            error = text.StartsWith('+') ? "not a valid phone number" : $"not a valid phone number for region {region}";
            return false;
        }
        // Most numbers are of the region they were read in (or the main region of their country code): checking
        // that region first spares libphonenumber's search through every region sharing the code (NANP has 25).
        var likelyRegion = text.StartsWith('+') ? Util.GetRegionCodeForCountryCode(number.CountryCode) : region;
        if (!Util.IsValidNumberForRegion(number, likelyRegion) && !Util.IsValidNumber(number))
        {
            error = text.StartsWith('+') ? "not a valid phone number" : $"not a valid phone number for region {region}";
            return false;
        }
        e164 = Util.Format(number, PhoneNumberFormat.E164);
        error = "";
        return true;
    }

    /// <summary>True for an ISO 3166 alpha-2 region libphonenumber knows (e.g. US, GB, DE).</summary>
    public static bool IsKnownRegion(string? region) =>
        region is { Length: 2 } && Util.GetSupportedRegions().Contains(region.ToUpperInvariant());

    /// <summary>The region of an E.164 number (e.g. "US"), or null when it has none.</summary>
    public static string? RegionOf(string e164)
    {
        try
        {
            return Util.GetRegionCodeForNumber(Util.Parse(e164, null));
        }
        catch (NumberParseException)
        {
            return null;
        }
    }
}
