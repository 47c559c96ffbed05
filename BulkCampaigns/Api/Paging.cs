using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.WebUtilities;

namespace BulkCampaigns.Api;

/// <summary>
/// Keyset paging for the API: the page token is an opaque encoding of the last row's key, so pages
/// stay stable while rows are added and a deep page costs the same as the first.
/// </summary>
public readonly record struct PageRequest(int PageSize, long After)
{
    public const int DefaultSize = 50;
    public const int MaxSize = 1000;

    /// <summary>Reads <c>pageSize</c> and <c>pageToken</c>; problems are added to <paramref name="validation"/>.</summary>
    public static PageRequest From(HttpRequest request, ApiValidation validation)
    {
        var size = DefaultSize;
        var sizeText = request.Query["pageSize"].ToString();
        if (sizeText.Length > 0 && (!int.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxSize))
        {
            validation.Add("pageSize", $"pageSize must be a whole number from 1 to {MaxSize}.");
            size = DefaultSize;
        }
        var token = request.Query["pageToken"].ToString();
        long after = 0;
        if (token.Length > 0 && !TryDecodeToken(token, out after))
        {
            validation.Add("pageToken", "pageToken is not one this API gave out; follow the next link of a previous page.");
        }
        return new PageRequest(size, after);
    }

    public static string EncodeToken(long afterKey) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes("k:" + afterKey.ToString(CultureInfo.InvariantCulture)));

    public static bool TryDecodeToken(string token, out long afterKey)
    {
        afterKey = 0;
        try
        {
            var text = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(token));
            return text.StartsWith("k:", StringComparison.Ordinal) &&
                   long.TryParse(text.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out afterKey);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>
/// <c>next</c> and <c>self</c> are absolute URLs a client can follow as they are, built from the request's scheme and
/// host (as the forwarded headers give them when the app runs behind a proxy that sends them).
/// </summary>
public sealed record Pagination(int PageSize, string? Next, string Self);

public static class PageLinks
{
    /// <summary>
    /// Builds the pagination block. <paramref name="rows"/> holds up to PageSize + 1 rows: the extra one
    /// only tells that a next page exists.
    /// </summary>
    public static (List<T> Items, Pagination Pagination) Page<T>(HttpRequest request, PageRequest page, List<T> rows, Func<T, long> key)
    {
        string? next = null;
        if (rows.Count > page.PageSize)
        {
            rows.RemoveRange(page.PageSize, rows.Count - page.PageSize);
            next = WithQuery(request, page.PageSize, PageRequest.EncodeToken(key(rows[^1])));
        }
        return (rows, new Pagination(page.PageSize, next, UriHelper.BuildAbsolute(request.Scheme, request.Host, request.PathBase, request.Path, request.QueryString)));
    }

    private static string WithQuery(HttpRequest request, int pageSize, string token)
    {
        var query = QueryHelpers.ParseQuery(request.QueryString.Value)
            .Where(p => p.Key is not ("pageToken" or "pageSize"))
            .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v)))
            .Append(new("pageSize", pageSize.ToString(CultureInfo.InvariantCulture)))
            .Append(new("pageToken", token));
        return QueryHelpers.AddQueryString(UriHelper.BuildAbsolute(request.Scheme, request.Host, request.PathBase, request.Path), query);
    }
}
