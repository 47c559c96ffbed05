using BulkCampaigns.Auth;
using BulkCampaigns.Data;
using OpenTelemetry.Metrics;

namespace BulkCampaigns.Operating;

/// <summary>What an operator needs to run the app: a bounded stop, metrics, health and readiness, backups, operation logs.</summary>
public static class OperatingSetup
{
    public static IServiceCollection AddOperating(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<HostOptions>(o =>
        {
            // Docker and systemd wait 10 s after SIGTERM before SIGKILL. Everything stops side by side (the web
            // server draining a stuck request does not hold up the batches writing what they sent), within this.
            o.ShutdownTimeout = TimeSpan.FromSeconds(configuration.GetValue("Shutdown:TimeoutSeconds", 5));
            o.ServicesStopConcurrently = true;
        });
        services.AddSingleton<OperationLog>();
        services.AddSingleton<Metrics>();
        services.AddHealth(configuration);
        services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(Metrics.MeterName)
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());
        return services;
    }

    public static IEndpointRouteBuilder MapOperating(this IEndpointRouteBuilder app)
    {
        // Its observable instruments exist from the start, not from the first send.
        app.ServiceProvider.GetRequiredService<Metrics>();
        app.MapHealth();
        app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: b => b.Use(MetricsAccess.GuardAsync), optionsName: null);
        app.MapGet("/settings/backup", async (DatabaseConnection database, TimeProvider clock, ILoggerFactory loggers, HttpContext http, CancellationToken ct) =>
        {
            if (database.IsPostgres)
            {
                return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Backups of a PostgreSQL database are made with pg_dump",
                    detail: "This app keeps its data in PostgreSQL; back it up with pg_dump (see Settings > Backup), not as a file from the app.");
            }
            var file = Path.Combine(Path.GetTempPath(), $"bulkcampaigns-backup-{Guid.NewGuid():N}.db");
            await DatabaseBackup.WriteAsync(database.ConnectionString, file, ct);
            loggers.CreateLogger(typeof(DatabaseBackup).FullName!).LogInformation("Backup downloaded by {User}", http.User.Identity?.Name);
            // The temporary copy goes when the download ends, finished or not.
            var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            return Results.File(stream, "application/vnd.sqlite3", $"bulkcampaigns-{clock.GetUtcNow():yyyyMMdd-HHmmss}.db");
        }).RequireAuthorization(AuthSetup.AdminPolicy).ExcludeFromDescription();
        return app;
    }
}
