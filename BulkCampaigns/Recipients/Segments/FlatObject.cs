using System.Numerics;

namespace BulkCampaigns.Recipients.Segments;

/// <summary>
/// The shape an import writes for a recipient's variables, one flat JSON object of text values without escapes, found
/// in one pass over its text, as .NET text or as UTF-8: where each name and value lies. Anything else (a number, a
/// nested value, an escape, a control character, more after the object) is not that shape; its callers parse it.
/// </summary>
internal static class FlatObject
{
    /// <summary>A name and its value, each as a start and a length inside the quotes.</summary>
    public readonly record struct Member(int NameStart, int NameLength, int ValueStart, int ValueLength);

    /// <summary>Fills <paramref name="members"/> (cleared first) and says whether the text is that shape.</summary>
    public static bool TryRead<T>(ReadOnlySpan<T> json, List<Member> members) where T : unmanaged, IBinaryInteger<T>
    {
        members.Clear();
        var n = json.Length;
        var i = SkipSpace(json, 0);
        if (i == n || json[i] != Char<T>('{'))
        {
            return false;
        }
        i = SkipSpace(json, i + 1);
        if (i < n && json[i] == Char<T>('}'))
        {
            return SkipSpace(json, i + 1) == n;
        }
        while (true)
        {
            var nameEnd = StringEnd(json, i);
            if (nameEnd < 0)
            {
                return false;
            }
            var nameStart = i + 1;
            i = SkipSpace(json, nameEnd + 1);
            if (i == n || json[i] != Char<T>(':'))
            {
                return false;
            }
            i = SkipSpace(json, i + 1);
            var valueEnd = StringEnd(json, i);
            if (valueEnd < 0)
            {
                return false;
            }
            members.Add(new Member(nameStart, nameEnd - nameStart, i + 1, valueEnd - i - 1));
            i = SkipSpace(json, valueEnd + 1);
            if (i == n)
            {
                return false;
            }
            if (json[i] == Char<T>('}'))
            {
                return SkipSpace(json, i + 1) == n;
            }
            if (json[i] != Char<T>(','))
            {
                return false;
            }
            i = SkipSpace(json, i + 1);
        }
    }

    private static T Char<T>(char c) where T : unmanaged, IBinaryInteger<T> => T.CreateTruncating(c);

    private static int SkipSpace<T>(ReadOnlySpan<T> json, int i) where T : unmanaged, IBinaryInteger<T>
    {
        while (i < json.Length && (json[i] == Char<T>(' ') || json[i] == Char<T>('\t') || json[i] == Char<T>('\r') || json[i] == Char<T>('\n')))
        {
            i++;
        }
        return i;
    }

    /// <summary>The closing quote of the string opening at <paramref name="i"/>; -1 when there is none, or it holds an escape or a control character.</summary>
    private static int StringEnd<T>(ReadOnlySpan<T> json, int i) where T : unmanaged, IBinaryInteger<T>
    {
        if (i >= json.Length || json[i] != Char<T>('"'))
        {
            return -1;
        }
        for (var j = i + 1; j < json.Length; j++)
        {
            var c = json[j];
            if (c == Char<T>('"'))
            {
                return j;
            }
            if (c == Char<T>('\\') || c < Char<T>(' '))
            {
                return -1;
            }
        }
        return -1;
    }
}
