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
        services.AddSingleton<SenderPacer>();
        services.AddSingleton<FailureWindows>();
        services.AddSingleton<OperationSignals>();
        services.AddSingleton<ActiveBatches>();
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
        services.AddHostedService<DispatchRecovery>();
        services.AddSingleton<VariantWinner>();
        services.AddHostedService<VariantWinnerRecovery>();
        services.AddSingleton<InFlightSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<InFlightSweeper>());
        return services;
    }
}
