using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Links;

/// <summary>
/// Turns every <c>http(s)</c> URL of a rendered text into this app's short link (<c>{BaseUrl}/l/{code}</c>): with the
/// message's codes when sending, with a preview code of the same length when previewing, so the preview's characters
/// and segments are what the phone gets.
/// </summary>
public sealed partial class ShortLinks(IOptions<LinkOptions> options, IConfiguration configuration, IServiceProvider services, LinkKeys keys)
{
    private string? _baseUrl;

    /// <summary>The short links' host, without a trailing slash.</summary>
    public string BaseUrl => _baseUrl ??= ResolveBaseUrl();

    public LinkCodes Codes => keys.Codes;

    /// <summary>The short link of link <paramref name="index"/> of message <paramref name="messageId"/>.</summary>
    public string Link(long messageId, int index) => $"{BaseUrl}/l/{Codes.Encode(messageId, index)}";

    /// <summary>
    /// The text with its URLs replaced by the message's short links (the first <see cref="LinkCodes.MaxLinksPerMessage"/>);
    /// the URLs, in order, are added to <paramref name="originals"/> when given.
    /// </summary>
    public string Shorten(string text, long messageId, List<string>? originals = null) =>
        Replace(text, originals, index => Link(messageId, index));

    /// <summary>The text as a preview shows it: each URL replaced by a short link of the length the recipient will get.</summary>
    public string ShortenForPreview(string text) => Replace(text, null, index => $"{BaseUrl}/l/{LinkCodes.PreviewCode(index)}");

    /// <summary>The URLs of a rendered text, in the order <see cref="Shorten"/> numbers them.</summary>
    public static List<string> Find(string text)
    {
        var found = new List<string>();
        Replace(text, found, _ => "");
        return found;
    }

    private static string Replace(string text, List<string>? originals, Func<int, string> link)
    {
        if (!text.Contains("http", StringComparison.OrdinalIgnoreCase))
        {
            return text;
        }
        StringBuilder? result = null;
        var copied = 0;
        var index = 0;
        for (var match = UrlPattern().Match(text); match.Success && index < LinkCodes.MaxLinksPerMessage; match = match.NextMatch())
        {
            var length = TrimEnd(text.AsSpan(match.Index, match.Length));
            if (length <= "https://".Length - 1 || text.AsSpan(match.Index, length).IndexOf("://", StringComparison.Ordinal) + 3 >= length)
            {
                continue; // "http://" alone is not a link
            }
            result ??= new StringBuilder(text.Length + 32);
            result.Append(text, copied, match.Index - copied).Append(link(index));
            originals?.Add(text.Substring(match.Index, length));
            copied = match.Index + length;
            index++;
        }
        return result is null ? text : result.Append(text, copied, text.Length - copied).ToString();
    }

    /// <summary>
    /// The URL's length without the punctuation that ends the sentence around it ("see https://x.example/a." or "(https://…)");
    /// a closing bracket stays when the URL opened one (a Wikipedia address).
    /// </summary>
    private static int TrimEnd(ReadOnlySpan<char> url)
    {
        var end = url.Length;
        while (end > 0)
        {
            var c = url[end - 1];
            if (c is '.' or ',' or ';' or ':' or '!' or '?' or '\'' or '"' or '*' or '_')
            {
                end--;
            }
            else if (c is ')' or ']' or '}' && url[..end].Count(Opening(c)) < url[..end].Count(c))
            {
                end--;
            }
            else
            {
                break;
            }
        }
        return end;
    }

    private static char Opening(char closing) => closing switch { ')' => '(', ']' => '[', _ => '{' };

    private string ResolveBaseUrl()
    {
        var configured = options.Value.BaseUrl;
        if (string.IsNullOrWhiteSpace(configured))
        {
            configured = configuration["Messaging:Twilio:PublicBaseUrl"];
        }
        if (string.IsNullOrWhiteSpace(configured))
        {
            var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            configured = addresses.OrderByDescending(a => a.StartsWith("https", StringComparison.OrdinalIgnoreCase)).FirstOrDefault() ?? "http://localhost:5280";
            configured = configured.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal)
                .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal).Replace("://[::]", "://localhost", StringComparison.Ordinal);
        }
        return configured.Trim().TrimEnd('/');
    }

    [GeneratedRegex(@"https?://[^\s<>""'`\u00A0]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UrlPattern();
}
