using System.Buffers.Binary;
using System.Security.Cryptography;

namespace BulkCampaigns.Links;

/// <summary>
/// The code of a tracked link: 16 characters of [0-9A-Za-z] that carry the message's ID and the link's place in it,
/// sealed with a keyed hash, so the redirect finds its message by primary key (no table of codes to write while
/// sending, none to search while redirecting) and a code nobody was sent is refused before the database is asked.
/// <para>The code is two halves of 8 characters, each a number below 62^8 (≈ 2^47.6): the tag, F(1, payload) mod
/// 62^8, and the payload (message ID × 16 + link index) plus F(2, tag) mod 62^8, where F is AES-128 under a key drawn
/// from the database's link key (<see cref="Aes128Block"/>). So every character is uniform, nothing of the ID shows, and
/// the same message and link always get the same code (a crash recovery renders the same body again).</para>
/// <para>Codes made before 2026-12-02 used HMAC-SHA256 as F; they still decode, so links already sent keep working.
/// HMAC cost two OpenSSL calls of about half a microsecond per link, which made tracking add 10–11 % to sending a
/// million messages. With both accepted a guess has two chances in 62^8 (46.6 bits) of being a code.</para>
/// </summary>
public sealed class LinkCodes
{
    public const int Length = 16;

    /// <summary>Links past this many in one message are sent as they are (the payload keeps 4 bits for the index).</summary>
    public const int MaxLinksPerMessage = 16;

    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int Half = 8;
    private const ulong Space = 218_340_105_584_896; // 62^8

    /// <summary>The largest message ID a code can carry (62^8 / 16 − 1, about 1.4 × 10^13).</summary>
    public const long MaxMessageId = (long)(Space / MaxLinksPerMessage) - 1;

    private static readonly sbyte[] Digits = BuildDigits();

    private readonly Aes128Block _aes;

    /// <summary>The keyed function of codes made before 2026-12-02, one per thread (it keeps the key's padded state).</summary>
    private readonly ThreadLocal<HMACSHA256> _hmac;

    public LinkCodes(byte[] key)
    {
        if (key.Length < 16)
        {
            throw new ArgumentException("A link key has at least 16 bytes.", nameof(key));
        }
        var copy = key.ToArray();
        _aes = new Aes128Block(HMACSHA256.HashData(copy, "BulkCampaigns link codes: AES-128 key"u8).AsSpan(0, Aes128Block.Size));
        _hmac = new ThreadLocal<HMACSHA256>(() => new HMACSHA256(copy));
    }

    /// <summary>The code of link <paramref name="index"/> of message <paramref name="messageId"/>.</summary>
    public string Encode(long messageId, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(messageId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(messageId, MaxMessageId);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, MaxLinksPerMessage);
        return Seal((ulong)messageId * MaxLinksPerMessage + (ulong)index, AesPrf);
    }

    /// <summary>The two halves of a payload's code under the keyed function <paramref name="prf"/>.</summary>
    private static string Seal(ulong payload, Func<byte, ulong, ulong> prf)
    {
        var tag = prf(1, payload);
        var masked = (payload + prf(2, tag)) % Space;
        return string.Create(Length, (tag, masked), static (span, halves) =>
        {
            Write(span[..Half], halves.tag);
            Write(span[Half..], halves.masked);
        });
    }

    /// <summary>The message and link a code stands for; false for anything that is not a code this key made.</summary>
    public bool TryDecode(ReadOnlySpan<char> code, out long messageId, out int index)
    {
        messageId = 0;
        index = 0;
        if (code.Length != Length || !TryRead(code[..Half], out var tag) || !TryRead(code[Half..], out var masked))
        {
            return false;
        }
        return TryOpen(tag, masked, AesPrf, out messageId, out index) || TryOpen(tag, masked, HmacPrf, out messageId, out index);
    }

    private static bool TryOpen(ulong tag, ulong masked, Func<byte, ulong, ulong> prf, out long messageId, out int index)
    {
        var payload = (masked + Space - prf(2, tag)) % Space;
        Span<byte> expected = stackalloc byte[8];
        Span<byte> actual = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(expected, prf(1, payload));
        BinaryPrimitives.WriteUInt64LittleEndian(actual, tag);
        if (!CryptographicOperations.FixedTimeEquals(expected, actual))
        {
            messageId = 0;
            index = 0;
            return false;
        }
        messageId = (long)(payload / MaxLinksPerMessage);
        index = (int)(payload % MaxLinksPerMessage);
        return true;
    }

    /// <summary>A code of the right shape for a preview: what a recipient's link will look like, leading nowhere.</summary>
    public static string PreviewCode(int index) => Preview.Encode(0, Math.Min(index, MaxLinksPerMessage - 1));

    private static readonly LinkCodes Preview = new("BulkCampaigns link preview key!!"u8.ToArray());

    /// <summary>AES-128 of (domain, value) under the key, as a number below 62^8 (the bias of the modulo is under 2^-17).</summary>
    private ulong AesPrf(byte domain, ulong value)
    {
        Span<byte> block = stackalloc byte[Aes128Block.Size];
        block.Clear();
        block[0] = domain;
        BinaryPrimitives.WriteUInt64LittleEndian(block[1..], value);
        _aes.Encrypt(block, block);
        return BinaryPrimitives.ReadUInt64LittleEndian(block) % Space;
    }

    /// <summary>HMAC-SHA256 of (domain, value) under the key, as a number below 62^8: codes made before 2026-12-02.</summary>
    private ulong HmacPrf(byte domain, ulong value)
    {
        Span<byte> input = stackalloc byte[9];
        input[0] = domain;
        BinaryPrimitives.WriteUInt64LittleEndian(input[1..], value);
        Span<byte> hash = stackalloc byte[32];
        _hmac.Value!.TryComputeHash(input, hash, out _);
        return BinaryPrimitives.ReadUInt64LittleEndian(hash) % Space;
    }

    /// <summary>A code as codes were made before 2026-12-02 (HMAC-SHA256), for the tests that old links still lead home.</summary>
    internal string EncodeAsBefore(long messageId, int index) => Seal((ulong)messageId * MaxLinksPerMessage + (ulong)index, HmacPrf);

    private static void Write(Span<char> target, ulong value)
    {
        for (var i = target.Length - 1; i >= 0; i--)
        {
            target[i] = Alphabet[(int)(value % 62)];
            value /= 62;
        }
    }

    private static bool TryRead(ReadOnlySpan<char> source, out ulong value)
    {
        value = 0;
        foreach (var c in source)
        {
            var digit = c < 128 ? Digits[c] : (sbyte)-1;
            if (digit < 0)
            {
                return false;
            }
            value = value * 62 + (ulong)digit;
        }
        return true;
    }

    private static sbyte[] BuildDigits()
    {
        var digits = new sbyte[128];
        Array.Fill(digits, (sbyte)-1);
        for (var i = 0; i < Alphabet.Length; i++)
        {
            digits[Alphabet[i]] = (sbyte)i;
        }
        return digits;
    }
}
