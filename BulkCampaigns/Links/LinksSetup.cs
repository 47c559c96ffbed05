using Microsoft.AspNetCore.RateLimiting;

namespace BulkCampaigns.Links;

public static class LinksSetup
{
    /// <summary>Tracked links: codes, the short links in previews and sends, the redirect, and the click writer.</summary>
    public static IServiceCollection AddLinks(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<LinkOptions>(configuration.GetSection(LinkOptions.Section));
        services.AddSingleton<LinkKeys>();
        services.AddSingleton<ShortLinks>();
        services.AddSingleton<LinkResolver>();
        services.AddSingleton<LinkQueries>();
        services.AddSingleton<ClickQueue>();
        services.AddHostedService<ClickWriter>();
        services.AddRateLimiter(o => o.AddPolicy<string, LinkRedirect.RateLimit>(LinkRedirect.RateLimitPolicy));
        return services;
    }
}
