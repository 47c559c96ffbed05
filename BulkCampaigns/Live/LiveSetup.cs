using BulkCampaigns.Data;
using BulkCampaigns.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using StackExchange.Redis;

namespace BulkCampaigns.Live;

public static class LiveSetup
{
    public const string HubPolicy = "LiveHub";

    public static IServiceCollection AddLive(this IServiceCollection services, IConfiguration configuration)
    {
        var signalR = services.AddSignalR();
        if (SharedRedis.ConnectionString(configuration) is { } redis)
        {
            // Several nodes: a change published on one node (a batch, an import) reaches the watchers connected to any
            // node through SignalR's Redis backplane. LivePublisher sends every change through the hub, so it rides it.
            services.AddSingleton(sp => new SharedRedis(redis, SharedRedis.PrefixFor(configuration, sp.GetRequiredService<DatabaseConnection>())));
            signalR.AddStackExchangeRedis(redis);
            services.AddOptions<RedisOptions>().Configure<SharedRedis>((o, shared) =>
            {
                o.Configuration.ChannelPrefix = RedisChannel.Literal(shared.Prefix + "live");
                o.Configuration.AbortOnConnectFail = false;
            });
        }
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
