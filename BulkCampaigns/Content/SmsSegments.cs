using System.Buffers;

namespace BulkCampaigns.Content;

public enum SmsEncoding
{
    Gsm7,
    Ucs2,
}

/// <summary>How an SMS text is carried: encoding, length and parts.</summary>
/// <param name="Characters">What the reader sees: Unicode code points.</param>
/// <param name="Units">What the network counts: GSM-7 septets (extension characters two) or UTF-16 code units.</param>
/// <param name="Segments">Parts the message is sent in (0 for an empty text).</param>
/// <param name="RemainingInSegment">Units still free in the last part before another part starts.</param>
/// <param name="Ucs2Characters">The distinct characters that forced UCS-2, in order of appearance.</param>
public sealed record SmsCount(SmsEncoding Encoding, int Characters, int Units, int Segments, int RemainingInSegment, IReadOnlyList<string> Ucs2Characters)
{
    public string EncodingName => Encoding == SmsEncoding.Gsm7 ? "GSM-7" : "UCS-2";
}

/// <summary>
/// Counts SMS segments by the rules of docs/api.md: GSM-7 holds 160 septets in one part and 153 per part
/// when split, extension characters (€ [ ] { } \ ^ ~ | form feed) take two; any other character makes the
/// whole text UCS-2, 70 code units in one part and 67 per part, characters outside the BMP taking two.
/// </summary>
public static class SmsSegments
{
    private const string Basic =
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

    private const string Extension = "€[]{}\\^~|\f";

    // Lookup for the BMP: 1 = basic (one septet), 2 = extension (two septets), 0 = not GSM-7.
    private static readonly byte[] Septets = BuildTable();

    // Most messages are basic GSM-7 throughout: a vectorized scan finds the first character that is not.
    private static readonly SearchValues<char> BasicChars = SearchValues.Create(Basic);

    private static byte[] BuildTable()
    {
        var table = new byte[char.MaxValue + 1];
        foreach (var c in Basic)
        {
            table[c] = 1;
        }
        foreach (var c in Extension)
        {
            table[c] = 2;
        }
        return table;
    }

    /// <summary>Septets a character takes in GSM-7, or 0 when it is not in GSM-7.</summary>
    public static int GsmSeptets(char c) => Septets[c];

    public static SmsCount Count(string? text)
    {
        text ??= "";
        var firstOther = text.AsSpan().IndexOfAnyExcept(BasicChars);
        if (firstOther < 0)
        {
            var (gsmParts, gsmLeft) = Split(text.Length, 160, 153);
            return new SmsCount(SmsEncoding.Gsm7, text.Length, text.Length, gsmParts, gsmLeft, []);
        }
        var septets = firstOther;
        var codePoints = firstOther;
        List<string>? ucs2 = null;
        for (var i = firstOther; i < text.Length; i++)
        {
            var c = text[i];
            codePoints++;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                ucs2 ??= [];
                var pair = text.Substring(i, 2);
                if (!ucs2.Contains(pair))
                {
                    ucs2.Add(pair);
                }
                i++;
                continue;
            }
            var cost = Septets[c];
            if (cost == 0)
            {
                ucs2 ??= [];
                var single = c.ToString();
                if (!ucs2.Contains(single))
                {
                    ucs2.Add(single);
                }
            }
            septets += cost;
        }

        if (ucs2 is null)
        {
            var (segments, remaining) = Split(septets, 160, 153);
            return new SmsCount(SmsEncoding.Gsm7, codePoints, septets, segments, remaining, []);
        }
        var units = text.Length; // UTF-16 code units: a character outside the BMP is a surrogate pair, two units
        var (parts, left) = Split(units, 70, 67);
        return new SmsCount(SmsEncoding.Ucs2, codePoints, units, parts, left, ucs2);
    }

    private static (int Segments, int Remaining) Split(int units, int single, int perPart)
    {
        if (units == 0)
        {
            return (0, single);
        }
        if (units <= single)
        {
            return (1, single - units);
        }
        var segments = (units + perPart - 1) / perPart;
        return (segments, segments * perPart - units);
    }
}
