using BulkCampaigns.Recipients;

namespace BulkCampaigns.Tests.Recipients;

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
