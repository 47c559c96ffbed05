using BulkCampaigns.Links;

namespace BulkCampaigns.Tests.Links;

public class ShortLinksTests
{
    [Theory]
    [InlineData("See https://shop.example/a.", new[] { "https://shop.example/a" })]
    [InlineData("(https://example.com/x?y=1&z=2), then http://b.example!", new[] { "https://example.com/x?y=1&z=2", "http://b.example" })]
    [InlineData("https://en.wikipedia.org/wiki/Foo_(bar) is it", new[] { "https://en.wikipedia.org/wiki/Foo_(bar)" })]
    [InlineData("HTTPS://UPPER.example/P", new[] { "HTTPS://UPPER.example/P" })]
    [InlineData("no link here, nor http:// alone, nor ftp://x.example", new string[0])]
    [InlineData("Grüße: https://example.com/ä?q=ü, bis dann", new[] { "https://example.com/ä?q=ü" })]
    public void The_urls_of_a_text_are_found_without_the_sentence_around_them(string text, string[] expected) =>
        Assert.Equal(expected, ShortLinks.Find(text));

    [Fact]
    public void Links_past_sixteen_in_one_message_are_left_as_they_are()
    {
        var text = string.Join(" ", Enumerable.Range(0, 20).Select(i => $"https://x.example/{i}"));
        Assert.Equal(LinkCodes.MaxLinksPerMessage, ShortLinks.Find(text).Count);
    }
}
