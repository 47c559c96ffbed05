using BulkCampaigns.Auth;

namespace BulkCampaigns.Campaigns;

public static class CampaignsSetup
{
    public static IServiceCollection AddCampaigns(this IServiceCollection services)
    {
        services.AddSingleton<CampaignQueries>();
        services.AddSingleton<CampaignDrafts>();
        services.AddSingleton<ChannelPrices>();
        services.AddSingleton<AudienceCounter>();
        services.AddSingleton<CampaignLauncher>();
        services.AddHostedService<CampaignLiveBridge>();
        return services;
    }

    public static IEndpointRouteBuilder MapCampaignExports(this IEndpointRouteBuilder app)
    {
        // Signed-in people download it from the dashboard; automations may fetch it with an API key.
        app.MapGet("/campaigns/{id}/messages.csv", CampaignExport.WriteAsync).RequireAuthorization(AuthSetup.ApiPolicy);
        return app;
    }
}
