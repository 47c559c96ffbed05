using System.Security.Cryptography;
using System.Text;
using BulkCampaigns.Auth;

namespace BulkCampaigns.Operating;

/// <summary>
/// <c>/metrics</c> tells how much is being sent, by whom and how fast: only a signed-in Admin, or a scraper sending
/// <c>Authorization: Bearer</c> with <c>Metrics:ScrapeToken</c>, may read it. Others get 401 (or 403 when signed in).
/// </summary>
public static class MetricsAccess
{
    public static async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        if (context.User.IsInRole(Roles.Admin) || HasScrapeToken(context))
        {
            await next(context);
            return;
        }
        var signedIn = context.User.Identity?.IsAuthenticated == true;
        context.Response.StatusCode = signedIn ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized;
        if (!signedIn)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"metrics\"";
        }
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(signedIn
            ? "Only an Admin may read the metrics."
            : "Send the scrape token (Metrics:ScrapeToken) as 'Authorization: Bearer <token>', or sign in as an Admin.");
    }

    private static bool HasScrapeToken(HttpContext context)
    {
        var expected = context.RequestServices.GetRequiredService<IConfiguration>()["Metrics:ScrapeToken"];
        var header = context.Request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        if (string.IsNullOrEmpty(expected) || !header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(header[prefix.Length..].Trim())),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
    }
}
