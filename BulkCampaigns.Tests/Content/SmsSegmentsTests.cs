using BulkCampaigns.Content;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Content;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class SmsSegmentsTests
{
    [Fact]
    public void An_empty_text_is_gsm7_with_no_segment()
    {
        var count = SmsSegments.Count("");

        Assert.Equal(SmsEncoding.Gsm7, count.Encoding);
        Assert.Equal(0, count.Segments);
        Assert.Equal(160, count.RemainingInSegment);
    }

    [Theory]
    [InlineData(1, 1, 159)]
    [InlineData(160, 1, 0)]
    [InlineData(161, 2, 145)] // 2 × 153 = 306
    [InlineData(306, 2, 0)]
    [InlineData(307, 3, 152)]
    [InlineData(459, 3, 0)]
    public void Gsm7_holds_160_in_one_part_and_153_per_part_when_split(int length, int segments, int remaining)
    {
        var count = SmsSegments.Count(new string('a', length));

        Assert.Equal(SmsEncoding.Gsm7, count.Encoding);
        Assert.Equal("GSM-7", count.EncodingName);
        Assert.Equal(length, count.Characters);
        Assert.Equal(length, count.Units);
        Assert.Equal(segments, count.Segments);
        Assert.Equal(remaining, count.RemainingInSegment);
        Assert.Empty(count.Ucs2Characters);
    }

    [Theory]
    [InlineData('€')]
    [InlineData('[')]
    [InlineData(']')]
    [InlineData('{')]
    [InlineData('}')]
    [InlineData('\\')]
    [InlineData('^')]
    [InlineData('~')]
    [InlineData('|')]
    [InlineData('\f')]
    public void An_extension_character_counts_two(char extension)
    {
        var fits = SmsSegments.Count(new string('a', 158) + extension);
        var spills = SmsSegments.Count(new string('a', 159) + extension);

        Assert.Equal(SmsEncoding.Gsm7, fits.Encoding);
        Assert.Equal(159, fits.Characters);
        Assert.Equal(160, fits.Units);
        Assert.Equal(1, fits.Segments);
        Assert.Equal(2, spills.Segments);
    }

    [Fact]
    public void Gsm7_accented_letters_of_the_basic_table_stay_gsm7()
    {
        var count = SmsSegments.Count("Café à Mälaga? Ñandù, Øresund, ß, Δ, @£$¥ è ì ò Ç");

        Assert.Equal(SmsEncoding.Gsm7, count.Encoding);
    }

    [Theory]
    [InlineData(70, 1, 0)]
    [InlineData(71, 2, 63)] // 2 × 67 = 134
    [InlineData(134, 2, 0)]
    [InlineData(135, 3, 66)]
    public void Ucs2_holds_70_in_one_part_and_67_per_part_when_split(int length, int segments, int remaining)
    {
        var count = SmsSegments.Count("ж" + new string('a', length - 1));

        Assert.Equal(SmsEncoding.Ucs2, count.Encoding);
        Assert.Equal("UCS-2", count.EncodingName);
        Assert.Equal(length, count.Units);
        Assert.Equal(segments, count.Segments);
        Assert.Equal(remaining, count.RemainingInSegment);
    }

    [Fact]
    public void One_character_outside_gsm7_makes_the_whole_text_ucs2_and_is_named()
    {
        var count = SmsSegments.Count("Hello ç and ç and á"); // ç (small) is not in GSM-7, Ç is; á is not

        Assert.Equal(SmsEncoding.Ucs2, count.Encoding);
        Assert.Equal(["ç", "á"], count.Ucs2Characters);
    }

    [Fact]
    public void Extension_characters_count_one_unit_in_ucs2()
    {
        var count = SmsSegments.Count("ж€");

        Assert.Equal(2, count.Units);
    }

    [Fact]
    public void An_emoji_outside_the_bmp_counts_two_units_but_is_one_character()
    {
        var count = SmsSegments.Count("Hi 😀");

        Assert.Equal(SmsEncoding.Ucs2, count.Encoding);
        Assert.Equal(4, count.Characters);
        Assert.Equal(5, count.Units);
        Assert.Equal(["😀"], count.Ucs2Characters);
    }

    [Fact]
    public void Emoji_push_a_text_over_a_part_boundary_by_their_two_units()
    {
        var count = SmsSegments.Count(new string('a', 68) + "😀"); // 70 units: fits
        var over = SmsSegments.Count(new string('a', 69) + "😀"); // 71 units: two parts

        Assert.Equal(1, count.Segments);
        Assert.Equal(0, count.RemainingInSegment);
        Assert.Equal(2, over.Segments);
    }

    [Fact]
    public void A_lone_surrogate_is_counted_as_a_ucs2_character()
    {
        var count = SmsSegments.Count("a\uD83D");

        Assert.Equal(SmsEncoding.Ucs2, count.Encoding);
        Assert.Equal(2, count.Units);
    }

    [Fact]
    public void Null_counts_as_empty()
    {
        Assert.Equal(0, SmsSegments.Count(null).Segments);
    }
}

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class SmsSegmentsReferenceTests
{
    private const string Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    private const string Extension = "€[]{}\\^~|\f";

    [Fact]
    public void Random_texts_count_as_a_plain_reading_of_the_rules_says()
    {
        var alphabet = Basic + Extension + "`çáж中😀\t";
        var random = new Random(7);
        for (var n = 0; n < 3000; n++)
        {
            var builder = new System.Text.StringBuilder();
            var length = random.Next(0, 400);
            var plain = random.Next(3) == 0; // a third use basic characters only
            while (builder.Length < length)
            {
                var source = plain ? Basic : alphabet;
                var index = random.Next(source.Length);
                builder.Append(char.IsHighSurrogate(source[index]) ? source.Substring(index, 2) : char.IsLowSurrogate(source[index]) ? "a" : source[index].ToString());
            }
            var text = builder.ToString();

            var count = SmsSegments.Count(text);

            var runes = text.EnumerateRunes().ToList();
            var gsm = runes.All(r => r.IsBmp && (Basic.Contains((char)r.Value) || Extension.Contains((char)r.Value)));
            var units = gsm ? runes.Sum(r => Extension.Contains((char)r.Value) ? 2 : 1) : text.Length;
            var (single, perPart) = gsm ? (160, 153) : (70, 67);
            var segments = units == 0 ? 0 : units <= single ? 1 : (units + perPart - 1) / perPart;
            Assert.Equal(gsm ? SmsEncoding.Gsm7 : SmsEncoding.Ucs2, count.Encoding);
            Assert.Equal(runes.Count, count.Characters);
            Assert.Equal(units, count.Units);
            Assert.Equal(segments, count.Segments);
        }
    }
}
