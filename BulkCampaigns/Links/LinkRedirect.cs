using System.Globalization;
using System.Threading.RateLimiting;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Links;

/// <summary>
/// <c>GET /l/{code}</c>: public, answers <c>302</c> to the link's URL at once and leaves the click to
/// <see cref="ClickQueue"/>. HEAD requests and link-preview fetchers are redirected but not counted. Anything that is not
/// a code of ours gets the same plain 404 page, so the endpoint tells nothing about campaigns or messages.
/// </summary>
public static class LinkRedirect
{
    public const string RateLimitPolicy = "links";

    /// <summary>The User-Agent marks of the fetchers that open a link to show its preview, not because a person clicked.</summary>
    private static readonly string[] PreviewFetchers =
        ["facebookexternalhit", "WhatsApp", "Twitterbot", "Slackbot", "TelegramBot", "Discordbot", "SkypeUriPreview", "Googlebot"];

    private const string NotFoundPage = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Link not found</title></head>
        <body><h1>Link not found</h1><p>This link is not valid. Check that it was copied whole.</p></body></html>
        """;

    public static IEndpointRouteBuilder MapLinkRedirect(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/l/{code}", [HttpMethods.Get, HttpMethods.Head], RedirectAsync)
            .AllowAnonymous()
            .RequireRateLimiting(RateLimitPolicy)
            .ExcludeFromDescription();
        return app;
    }

    private static async Task RedirectAsync(string code, HttpContext http, LinkResolver resolver, ClickQueue clicks, TimeProvider clock)
    {
        var response = http.Response;
        response.Headers.CacheControl = "no-store";
        var target = await resolver.ResolveAsync(code, http.RequestAborted);
        if (target is null)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            response.ContentType = "text/html; charset=utf-8";
            if (!HttpMethods.IsHead(http.Request.Method))
            {
                await response.WriteAsync(NotFoundPage, http.RequestAborted);
            }
            return;
        }
        response.StatusCode = StatusCodes.Status302Found;
        response.Headers.Location = target.Url;
        if (IsCounted(http.Request))
        {
            clicks.Add(new ClickRecord(target.OperationId, target.MessageId, target.LinkIndex, target.Url, UnixMs.Now(clock)));
        }
    }

    /// <summary>A GET by something other than a link-preview fetcher: a person's click.</summary>
    public static bool IsCounted(HttpRequest request)
    {
        if (!HttpMethods.IsGet(request.Method))
        {
            return false;
        }
        var agent = request.Headers.UserAgent.ToString();
        return !PreviewFetchers.Any(f => agent.Contains(f, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Per client address, a token bucket (<c>Links:PermitsPerSecond</c>, <c>Links:Burst</c>); past it a plain <c>429</c>.</summary>
    internal sealed class RateLimit(IOptions<LinkOptions> options) : IRateLimiterPolicy<string>
    {
        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = async (context, ct) =>
        {
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
            var response = context.HttpContext.Response;
            response.StatusCode = StatusCodes.Status429TooManyRequests;
            response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync("Too many requests from this address; try again in a moment.", ct);
        };

        public RateLimitPartition<string> GetPartition(HttpContext httpContext)
        {
            var settings = options.Value;
            var perSecond = Math.Max(1, settings.PermitsPerSecond);
            var burst = Math.Max(perSecond, settings.Burst);
            return RateLimitPartition.GetTokenBucketLimiter(httpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = burst,
                TokensPerPeriod = perSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        }
    }
}
