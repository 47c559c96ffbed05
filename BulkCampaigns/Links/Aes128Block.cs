using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace BulkCampaigns.Links;

/// <summary>
/// AES-128 of one 16-byte block under one key: the keyed function behind link codes (<see cref="LinkCodes"/>).
/// <para>With the processor's AES instructions (x86 AES-NI, which every x64 server of the last decade has) a block is
/// ten instructions, tens of nanoseconds. .NET's <see cref="System.Security.Cryptography.Aes"/> goes through OpenSSL at
/// about a microsecond per call whatever its length, and a campaign makes two calls for every link of every message:
/// that call overhead was most of what link tracking added to sending. Where the instructions are missing, .NET's Aes
/// does the work. Both give the same bytes (a test checks it against .NET's Aes over random keys and blocks), so a code
/// never depends on the machine that made it.</para>
/// </summary>
public sealed class Aes128Block
{
    public const int Size = 16;

    private readonly Vector128<byte>[]? _roundKeys;
    private readonly ThreadLocal<System.Security.Cryptography.Aes>? _library;

    public Aes128Block(ReadOnlySpan<byte> key, bool useProcessorInstructions = true)
    {
        if (key.Length != Size)
        {
            throw new ArgumentException("An AES-128 key has 16 bytes.", nameof(key));
        }
        if (useProcessorInstructions && X86Aes.IsSupported)
        {
            _roundKeys = ExpandKey(Vector128.Create(key));
        }
        else
        {
            var copy = key.ToArray();
            // An Aes object is not safe to share between threads; sending renders on several.
            _library = new ThreadLocal<System.Security.Cryptography.Aes>(() =>
            {
                var aes = System.Security.Cryptography.Aes.Create();
                aes.Key = copy;
                return aes;
            });
        }
    }

    /// <summary>Whether blocks are encrypted with the processor's AES instructions here.</summary>
    public bool UsesProcessorInstructions => _roundKeys is not null;

    /// <summary>Encrypts one block (<see cref="Size"/> bytes) into <paramref name="destination"/>.</summary>
    public void Encrypt(ReadOnlySpan<byte> block, Span<byte> destination)
    {
        if (_roundKeys is { } keys)
        {
            var state = Vector128.Create(block) ^ keys[0];
            for (var round = 1; round < 10; round++)
            {
                state = X86Aes.Encrypt(state, keys[round]);
            }
            X86Aes.EncryptLast(state, keys[10]).CopyTo(destination);
            return;
        }
        _library!.Value!.EncryptEcb(block[..Size], destination, PaddingMode.None);
    }

    /// <summary>The eleven round keys of AES-128 (FIPS 197, 5.2), each from the one before and its round constant.</summary>
    private static Vector128<byte>[] ExpandKey(Vector128<byte> key)
    {
        var keys = new Vector128<byte>[11];
        keys[0] = key;
        // The round constant is an immediate of the instruction, so each round names its own.
        keys[1] = NextRoundKey(keys[0], X86Aes.KeygenAssist(keys[0], 0x01));
        keys[2] = NextRoundKey(keys[1], X86Aes.KeygenAssist(keys[1], 0x02));
        keys[3] = NextRoundKey(keys[2], X86Aes.KeygenAssist(keys[2], 0x04));
        keys[4] = NextRoundKey(keys[3], X86Aes.KeygenAssist(keys[3], 0x08));
        keys[5] = NextRoundKey(keys[4], X86Aes.KeygenAssist(keys[4], 0x10));
        keys[6] = NextRoundKey(keys[5], X86Aes.KeygenAssist(keys[5], 0x20));
        keys[7] = NextRoundKey(keys[6], X86Aes.KeygenAssist(keys[6], 0x40));
        keys[8] = NextRoundKey(keys[7], X86Aes.KeygenAssist(keys[7], 0x80));
        keys[9] = NextRoundKey(keys[8], X86Aes.KeygenAssist(keys[8], 0x1B));
        keys[10] = NextRoundKey(keys[9], X86Aes.KeygenAssist(keys[9], 0x36));
        return keys;
    }

    /// <summary>
    /// w[i] = w[i−4] xor w[i−1] for the four words, the first of them also xor SubWord(RotWord(last word)) xor the
    /// round constant, which is the top word of the key-generation assist.
    /// </summary>
    private static Vector128<byte> NextRoundKey(Vector128<byte> key, Vector128<byte> assist)
    {
        var spread = Sse2.Shuffle(assist.AsUInt32(), 0xFF).AsByte();
        key ^= Sse2.ShiftLeftLogical128BitLane(key, 4);
        key ^= Sse2.ShiftLeftLogical128BitLane(key, 4);
        key ^= Sse2.ShiftLeftLogical128BitLane(key, 4);
        return key ^ spread;
    }
}
