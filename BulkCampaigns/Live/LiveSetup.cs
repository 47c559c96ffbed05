using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;

namespace BulkCampaigns.Live;

public static class LiveSetup
{
    public const string HubPolicy = "LiveHub";

    public static IServiceCollection AddLive(this IServiceCollection services)
    {
        services.AddSignalR();
        services.AddSingleton<LiveTokens>();
        services.AddSingleton<LiveEndpoint>();
        services.AddSingleton<LivePublisher>();
        services.AddHostedService(sp => sp.GetRequiredService<LivePublisher>());
        services.AddScoped<ILiveUpdates, LiveClient>();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, LiveTokenHandler>(LiveTokenHandler.SchemeName, null);
        // Browsers come with the sign-in cookie, circuits with a live token.
        services.AddAuthorizationBuilder().AddPolicy(HubPolicy, p => p
            .AddAuthenticationSchemes(IdentityConstants.ApplicationScheme, LiveTokenHandler.SchemeName)
            .RequireAuthenticatedUser());
        return services;
    }

    public static IEndpointRouteBuilder MapLive(this IEndpointRouteBuilder app)
    {
        app.MapHub<LiveHub>(LiveHub.Path);
        return app;
    }
}
