namespace BulkCampaigns.Data;

/// <summary>
/// Turns row numbers into opaque IDs with a prefix (<c>grp_</c>, <c>comms_message_</c>, …) and back.
/// A fixed 4-round Feistel permutation hides the sequence (docs/api.md: never expose raw row numbers),
/// costs nothing to store and keeps the integer primary keys that the hot paths need.
/// </summary>
public static class PublicId
{
    public const string Group = "grp_";
    public const string Import = "imp_";
    public const string Recipient = "rcp_";
    public const string Sender = "snd_";
    public const string Content = "cnt_";
    public const string Operation = "comms_operation_";
    public const string Message = "comms_message_";
    public const string Segment = "seg_";

    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case
    private static readonly uint[] Keys = [0x9E3779B9u, 0x7F4A7C15u, 0x94D049BBu, 0xBF58476Du];

    public static string Encode(string prefix, long id)
    {
        var value = Permute((ulong)id, Salt(prefix));
        Span<char> chars = stackalloc char[13];
        for (var i = 12; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }
        return string.Concat(prefix, chars);
    }

    public static bool TryDecode(string prefix, string? text, out long id)
    {
        id = 0;
        if (text is null || text.Length != prefix.Length + 13 || !text.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }
        ulong value = 0;
        for (var i = prefix.Length; i < text.Length; i++)
        {
            var digit = Alphabet.IndexOf(char.ToLowerInvariant(text[i]));
            if (digit < 0)
            {
                return false;
            }
            value = (value << 5) | (uint)digit;
        }
        if (Alphabet.IndexOf(char.ToLowerInvariant(text[prefix.Length])) > 15)
        {
            return false; // 13 base32 digits carry 65 bits; the top one must be zero
        }
        var decoded = Unpermute(value, Salt(prefix));
        if (decoded > long.MaxValue || decoded == 0)
        {
            return false;
        }
        id = (long)decoded;
        return true;
    }

    /// <summary>Each kind of ID gets its own permutation, so row 1 of two tables does not look alike.</summary>
    private static uint Salt(string prefix)
    {
        var hash = 2166136261u; // FNV-1a
        foreach (var c in prefix)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return hash;
    }

    private static ulong Permute(ulong value, uint salt)
    {
        var left = (uint)(value >> 32);
        var right = (uint)value;
        foreach (var key in Keys)
        {
            (left, right) = (right, left ^ Round(right, key ^ salt));
        }
        return ((ulong)left << 32) | right;
    }

    private static ulong Unpermute(ulong value, uint salt)
    {
        var left = (uint)(value >> 32);
        var right = (uint)value;
        for (var i = Keys.Length - 1; i >= 0; i--)
        {
            (left, right) = (right ^ Round(left, Keys[i] ^ salt), left);
        }
        return ((ulong)left << 32) | right;
    }

    private static uint Round(uint half, uint key)
    {
        var x = (half ^ key) * 0x85EBCA6Bu;
        x ^= x >> 13;
        x *= 0xC2B2AE35u;
        return x ^ (x >> 16);
    }
}
