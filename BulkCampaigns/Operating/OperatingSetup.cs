namespace BulkCampaigns.Operating;

/// <summary>What an operator needs to run the app: a bounded stop, metrics, health and readiness, backups.</summary>
public static class OperatingSetup
{
    public static IServiceCollection AddOperating(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<HostOptions>(o =>
        {
            // Docker and systemd wait 10 s after SIGTERM before SIGKILL. Everything stops side by side (the web
            // server draining a stuck request does not hold up the batches writing what they sent), within this.
            o.ShutdownTimeout = TimeSpan.FromSeconds(configuration.GetValue("Shutdown:TimeoutSeconds", 6));
            o.ServicesStopConcurrently = true;
        });
        return services;
    }
}
