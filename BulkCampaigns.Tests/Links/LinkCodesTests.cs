using System.Security.Cryptography;
using BulkCampaigns.Links;

namespace BulkCampaigns.Tests.Links;

public class LinkCodesTests
{
    private const int Count = 100_000;
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    // A fixed key keeps the statistics below the same on every run (no flaky test); any key behaves alike.
    private static readonly LinkCodes Codes = new(SHA256.HashData("a test key"u8));

    /// <summary>Consecutive message IDs, as a campaign's messages have, links 0 and 1 alternating.</summary>
    private static readonly string[] Sample = Enumerable.Range(0, Count).Select(i => Codes.Encode(1_000_000 + i / 2, i % 2)).ToArray();

    [Fact]
    public void A_hundred_thousand_codes_are_unique_sixteen_alphanumerics_and_each_leads_back_to_its_message_and_link()
    {
        Assert.Equal(Count, Sample.Distinct(StringComparer.Ordinal).Count());
        Assert.All(Sample, c => Assert.Matches("^[A-Za-z0-9]{16}$", c));
        for (var i = 0; i < Count; i += 997)
        {
            Assert.True(Codes.TryDecode(Sample[i], out var messageId, out var index));
            Assert.Equal((1_000_000L + i / 2, i % 2), (messageId, index));
        }
    }

    [Fact]
    public void Every_position_uses_every_character_evenly()
    {
        // Chi-square over the 62 characters at each of the 16 positions, 61 degrees of freedom: 150 is beyond the
        // 99.9999th percentile, while a code that carried the ID in the clear (a few fixed leading characters) scores in the millions.
        for (var position = 0; position < LinkCodes.Length; position++)
        {
            var counts = new int[62];
            foreach (var code in Sample)
            {
                counts[Alphabet.IndexOf(code[position], StringComparison.Ordinal)]++;
            }
            var expected = Count / 62.0;
            var chiSquare = counts.Sum(c => (c - expected) * (c - expected) / expected);
            Assert.True(chiSquare < 150, $"position {position}: chi-square {chiSquare:F1}");
        }
    }

    [Fact]
    public void Codes_of_consecutive_messages_show_no_sequence()
    {
        // Neighbours agree at a position 1 time in 62 (16/62 positions per pair), and rise or fall as a coin falls.
        double samePositions = 0;
        var rising = 0;
        for (var i = 1; i < Count; i++)
        {
            for (var p = 0; p < LinkCodes.Length; p++)
            {
                samePositions += Sample[i][p] == Sample[i - 1][p] ? 1 : 0;
            }
            rising += string.CompareOrdinal(Sample[i], Sample[i - 1]) > 0 ? 1 : 0;
        }
        var perPair = samePositions / (Count - 1);
        Assert.InRange(perPair, 16 / 62.0 - 0.01, 16 / 62.0 + 0.01);
        Assert.InRange(rising / (double)(Count - 1), 0.49, 0.51);
        // Nor does a code share a prefix with the next message's: the first 8 characters are the keyed tag.
        Assert.True(Enumerable.Range(1, Count - 1).Count(i => Sample[i][..3] == Sample[i - 1][..3]) < 10);
    }

    [Fact]
    public void Guessed_altered_or_foreign_codes_are_refused()
    {
        var random = new Random(42);
        var guessed = Enumerable.Range(0, Count).Select(_ => new string(Enumerable.Range(0, 16).Select(_ => Alphabet[random.Next(62)]).ToArray()));
        Assert.DoesNotContain(guessed, g => Codes.TryDecode(g, out _, out _));
        for (var i = 0; i < 1000; i++)
        {
            var code = Sample[i].ToCharArray();
            var p = random.Next(16);
            code[p] = Alphabet[(Alphabet.IndexOf(code[p], StringComparison.Ordinal) + 1 + random.Next(61)) % 62];
            Assert.False(Codes.TryDecode(new string(code), out _, out _));
        }
        var otherKey = new LinkCodes(SHA256.HashData("another key"u8));
        Assert.DoesNotContain(Sample.Take(10_000), c => otherKey.TryDecode(c, out _, out _));
        Assert.False(Codes.TryDecode("", out _, out _));
        Assert.False(Codes.TryDecode("ÄAAAAAAAAAAAAAAA", out _, out _));
        Assert.False(Codes.TryDecode(Sample[0] + "0", out _, out _));
    }

    [Fact]
    public void Codes_made_before_the_AES_change_still_lead_back_to_their_message_and_link()
    {
        for (var i = 0; i < 1000; i++)
        {
            var before = Codes.EncodeAsBefore(7_000_000 + i, i % LinkCodes.MaxLinksPerMessage);
            Assert.NotEqual(Codes.Encode(7_000_000 + i, i % LinkCodes.MaxLinksPerMessage), before);
            Assert.True(Codes.TryDecode(before, out var messageId, out var index));
            Assert.Equal((7_000_000L + i, i % LinkCodes.MaxLinksPerMessage), (messageId, index));
        }
    }

    [Fact]
    public void The_block_cipher_is_AES_128_with_or_without_the_processor_instructions()
    {
        // FIPS 197, appendix C.1.
        var key = Convert.FromHexString("000102030405060708090a0b0c0d0e0f");
        var block = Convert.FromHexString("00112233445566778899aabbccddeeff");
        var output = new byte[16];
        new Aes128Block(key).Encrypt(block, output);
        Assert.Equal("69c4e0d86a7b0430d8cdb78070b4c55a", Convert.ToHexStringLower(output));
        new Aes128Block(key, useProcessorInstructions: false).Encrypt(block, output);
        Assert.Equal("69c4e0d86a7b0430d8cdb78070b4c55a", Convert.ToHexStringLower(output));

        // And the same bytes as .NET's Aes for random keys and blocks.
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            random.NextBytes(key);
            random.NextBytes(block);
            using var library = Aes.Create();
            library.Key = key;
            var expected = library.EncryptEcb(block, PaddingMode.None);
            new Aes128Block(key).Encrypt(block, output);
            Assert.Equal(expected, output);
            new Aes128Block(key, useProcessorInstructions: false).Encrypt(block, output);
            Assert.Equal(expected, output);
        }
    }
}
