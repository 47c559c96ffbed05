using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace BulkCampaigns.Api;

/// <summary>
/// Each API key (or signed-in user) gets its own token bucket: <c>Api:RateLimit:PermitsPerSecond</c>
/// sustained, bursts up to <c>Api:RateLimit:Burst</c>. Past it: 429 with <c>Retry-After</c>.
/// </summary>
public static class RateLimits
{
    public const string ApiPolicy = "api";

    public static IServiceCollection AddApiRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var perSecond = Math.Max(1, configuration.GetValue("Api:RateLimit:PermitsPerSecond", 100));
        var burst = Math.Max(perSecond, configuration.GetValue("Api:RateLimit:Burst", 200));
        services.AddRateLimiter(o =>
        {
            o.AddPolicy(ApiPolicy, http => RateLimitPartition.GetTokenBucketLimiter(
                http.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? http.Connection.RemoteIpAddress?.ToString() ?? "anonymous",
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = burst,
                    TokensPerPeriod = perSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
            o.OnRejected = async (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await new ApiError(StatusCodes.Status429TooManyRequests, ApiError.Codes.TooManyRequests,
                    $"Too many requests for this API key; wait {retryAfter} s (see Retry-After) and slow down to {perSecond} requests per second.")
                    .ToResult().ExecuteAsync(context.HttpContext);
            };
        });
        return services;
    }
}
