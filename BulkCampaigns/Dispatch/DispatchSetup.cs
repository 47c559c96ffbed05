using BulkCampaigns.Data;
using BulkCampaigns.Dispatch.Providers;
using BulkCampaigns.Hosting;
using BulkCampaigns.Simulator;

namespace BulkCampaigns.Dispatch;

public static class DispatchSetup
{
    /// <summary>The dispatch engine, its provider (<c>Messaging:Provider</c>: Simulated or Twilio) and the start-up resume.</summary>
    public static IServiceCollection AddDispatch(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<DispatchOptions>(configuration.GetSection("Dispatch"));
        // With a shared Redis (several nodes) the pace and the pause/cancel wake-up are the nodes' together; else in process.
        if (SharedRedis.ConnectionString(configuration) is not null)
        {
            services.AddSingleton<SharedPace>();
        }
        services.AddSingleton(sp => new SenderPacer(shared: sp.GetService<SharedPace>()));
        services.AddSingleton<FailureWindows>();
        services.AddSingleton(sp => new OperationSignals(sp.GetService<SharedRedis>(), sp.GetRequiredService<ILogger<OperationSignals>>()));
        services.AddHostedService(sp => sp.GetRequiredService<OperationSignals>());
        services.AddSingleton<ActiveBatches>();
        services.Configure<NodeOptions>(configuration.GetSection("Node"));
        services.AddSingleton(sp => new CurrentNode(NodeOptions.ResolveName(configuration), sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<NodeOptions>>().Value));
        services.AddSingleton<OperationProgress>();
        services.AddSingleton<SimulatorInbox>();
        // The engine's SQL for the database in use: SQLite through its single writer, PostgreSQL straight to the server.
        services.AddSingleton<IEngineStore>(sp => sp.GetRequiredService<DatabaseConnection>().IsPostgres
            ? ActivatorUtilities.CreateInstance<Postgres.PostgresEngineStore>(sp)
            : ActivatorUtilities.CreateInstance<Sqlite.SqliteEngineStore>(sp));
        services.AddSingleton<BatchRenderer>();
        services.AddSingleton<BatchSender>();
        services.AddSingleton<BatchRecorder>();
        services.AddSingleton<AutoPause>();
        services.AddSingleton<OperationRunner>();
        services.AddTransient<DispatchJobs>();

        if (MessagingOptions.From(configuration).UsesTwilio)
        {
            services.AddTwilioProvider(configuration);
        }
        else
        {
            services.AddSingleton<IMessageProvider, SimulatorProvider>();
            services.AddSingleton<Content.TwilioTemplates.ITwilioTemplateSource, Content.TwilioTemplates.SimulatorTemplates>();
            services.AddHostedService<SimulatorDeliveryReporter>();
        }
        // The node registers before the recovery runs: registering ends the leases its earlier run left.
        services.AddSingleton<NodeHeartbeat>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeHeartbeat>());
        services.AddHostedService<DispatchRecovery>();
        services.AddSingleton<VariantWinner>();
        services.AddHostedService<VariantWinnerRecovery>();
        services.AddSingleton<StallRescue>();
        services.AddSingleton<InFlightSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<InFlightSweeper>());
        return services;
    }
}
