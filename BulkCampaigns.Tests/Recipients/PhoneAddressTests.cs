using BulkCampaigns.Recipients;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Recipients;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class PhoneAddressTests
{
    [Fact]
    public void The_quick_path_for_plus_numbers_gives_the_same_answer_as_libphonenumbers_full_parse()
    {
        var random = new Random(7);
        string[] codes = ["1", "44", "49", "33", "39", "34", "7", "81", "86", "91", "55", "52", "54", "61", "27", "234", "971", "353", "380", "972"];
        var compared = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var text = "+" + codes[random.Next(codes.Length)] + random.NextInt64(1_000_000, 99_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var quick = PhoneAddress.TryNormalize(text, "US", out var quickE164, out _);
            var full = PhoneAddress.TryNormalizeFull(text, "US", out var fullE164, out _);
            Assert.True(quick == full && quickE164 == fullE164, $"{text}: quick {quick} {quickE164}, full {full} {fullE164}");
            compared += full ? 1 : 0;
        }
        Assert.True(compared > 500, "the sample should hold valid numbers too");
    }

    [Fact]
    public void The_quick_path_for_national_numbers_gives_the_same_answer_as_libphonenumbers_full_parse()
    {
        var random = new Random(11);
        string[] regions = ["US", "CA", "GB", "DE", "FR", "IT", "ES", "RU", "JP", "CN", "IN", "BR", "MX", "AR", "AU", "ZA", "NG", "AE", "IE", "UA", "IL", "us", " gb ", "", "ZZ"];
        string[] separators = ["", " ", "-", ".", "  ", " - "];
        var compared = 0;
        for (var i = 0; i < 40_000; i++)
        {
            var region = regions[random.Next(regions.Length)];
            // Mostly plausible lengths, with leading 0s, 1s, national and international prefixes and country codes among them.
            var digits = random.Next(4) switch
            {
                0 => random.NextInt64(2_000_000_000, 9_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture),
                1 => random.NextInt64(1_000, 999_999_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture),
                2 => "0" + random.NextInt64(1_000_000, 9_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => new[] { "1", "8", "7", "44", "49", "011", "00", "810" }[random.Next(8)] + random.NextInt64(1_000_000, 9_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            var text = Write(digits, random, separators);
            var quick = PhoneAddress.TryNormalize(text, region, out var quickE164, out var quickError);
            var full = PhoneAddress.TryNormalizeFull(text.Trim(), region, out var fullE164, out var fullError);
            Assert.True(quick == full && quickE164 == fullE164 && quickError == fullError, $"{region} '{text}': quick {quick} {quickE164} {quickError}, full {full} {fullE164} {fullError}");
            compared += full ? 1 : 0;
        }
        Assert.True(compared > 3_000, $"the sample should hold valid numbers too ({compared})");
    }

    /// <summary>The digits as people write them: grouped with spaces, dashes or dots, an area code in brackets.</summary>
    private static string Write(string digits, Random random, string[] separators)
    {
        var builder = new System.Text.StringBuilder();
        var bracket = random.Next(4) == 0 && digits.Length > 6;
        var at = 0;
        while (at < digits.Length)
        {
            var take = Math.Min(digits.Length - at, random.Next(1, 5));
            if (at == 0 && bracket)
            {
                builder.Append('(').Append(digits, 0, take).Append(") ");
            }
            else
            {
                if (at > 0 && !(bracket && builder[^1] == ' '))
                {
                    builder.Append(separators[random.Next(separators.Length)]);
                }
                builder.Append(digits, at, take);
            }
            at += take;
        }
        if (random.Next(20) == 0)
        {
            builder.Append(new[] { ")", " ", ".", "-" }[random.Next(4)]);
        }
        return builder.ToString();
    }

    [Theory]
    [InlineData("(201) 555-0123", "US", "+12015550123")]
    [InlineData("201.555.0123", "US", "+12015550123")]
    [InlineData("1 201 555 0123", "US", "+12015550123")]
    [InlineData("07911 123456", "GB", "+447911123456")]
    [InlineData("030 1234567", "DE", "+49301234567")]
    public void Written_forms_of_national_numbers_normalize_to_E164(string text, string region, string expected)
    {
        Assert.True(PhoneAddress.TryNormalize(text, region, out var e164, out var error), error);
        Assert.Equal(expected, e164);
    }

    [Theory]
    [InlineData("555-01", "US")]
    [InlineData("201 555 012", "US")]
    [InlineData("2015 550 1234 5", "US")]
    [InlineData("7911 12345", "GB")]
    public void National_numbers_of_no_valid_length_are_rejected_as_the_full_parse_rejects_them(string text, string region)
    {
        Assert.False(PhoneAddress.TryNormalize(text, region, out _, out var error));
        Assert.False(PhoneAddress.TryNormalizeFull(text, region, out _, out var fullError));
        Assert.Equal(fullError, error);
        Assert.Equal($"not a valid phone number for region {region}", error);
    }

    [Theory]
    [InlineData("+44 (0) 7911 123456", "+447911123456")]
    [InlineData("+1 (201) 555-0123", "+12015550123")]
    [InlineData("+39 06 1234 5678", "+390612345678")]
    public void Written_forms_of_international_numbers_normalize_to_E164(string text, string expected)
    {
        Assert.True(PhoneAddress.TryNormalize(text, "US", out var e164, out var error), error);
        Assert.Equal(expected, e164);
    }
}

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class RegionValidityTests
{
    private static readonly PhoneNumbers.PhoneNumberUtil Util = PhoneNumbers.PhoneNumberUtil.GetInstance();

    public static TheoryData<string> Regions() =>
        new(["US", "CA", "GB", "DE", "FR", "IT", "ES", "IN", "BR", "AU", "JP", "MX", "NG", "ZA", "CN", "RU", "NL", "SE", "CH", "PL", "AR", "ID", "PH", "EG", "KR", "SG", "AE", "IE", "NZ", "PT"]);

    [Theory]
    [MemberData(nameof(Regions))]
    public void Answers_as_libphonenumber_does_for_random_and_example_numbers(string region)
    {
        var metadata = Util.GetMetadataForRegion(region);
        var validity = BulkCampaigns.Recipients.RegionValidity.For(region)!;
        var random = new Random(region.GetHashCode(StringComparison.Ordinal) ^ 20261126);
        var lengths = metadata.GeneralDesc.PossibleLengthList.SelectMany(l => new[] { l - 1, l, l + 1 }).Where(l => l is >= 2 and <= 17).Distinct().ToArray();
        var numbers = new List<string>();
        foreach (var desc in new[] { metadata.FixedLine, metadata.Mobile, metadata.TollFree, metadata.PremiumRate, metadata.Voip })
        {
            if (desc?.ExampleNumber is { Length: > 0 } example && example[0] != '0')
            {
                numbers.Add(example);
                // Neighbours of a valid number are often valid too, or just not: both sides of the patterns.
                for (var i = 0; i < 200; i++)
                {
                    var digits = example.ToCharArray();
                    digits[random.Next(1, digits.Length)] = (char)('0' + random.Next(10));
                    numbers.Add(new string(digits));
                }
            }
        }
        for (var i = 0; i < 3000; i++)
        {
            var length = lengths[random.Next(lengths.Length)];
            var digits = new char[length];
            digits[0] = (char)('1' + random.Next(9));
            for (var d = 1; d < length; d++)
            {
                digits[d] = (char)('0' + random.Next(10));
            }
            numbers.Add(new string(digits));
        }

        var valid = 0;
        foreach (var number in numbers)
        {
            var phone = new PhoneNumbers.PhoneNumber.Builder().SetCountryCode(metadata.CountryCode).SetNationalNumber(ulong.Parse(number, System.Globalization.CultureInfo.InvariantCulture)).Build();
            var expected = Util.IsValidNumberForRegion(phone, region);
            Assert.True(expected == validity.IsValid(number), $"{region} {number}: libphonenumber says {expected}");
            valid += expected ? 1 : 0;
        }
        Assert.InRange(valid, 1, numbers.Count - 1);
    }
}
