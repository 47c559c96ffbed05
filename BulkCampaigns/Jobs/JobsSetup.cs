using BulkCampaigns.Auth;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.InMemory;

namespace BulkCampaigns.Jobs;

public static class JobsSetup
{
    public static IServiceCollection AddAppJobs(this IServiceCollection services, IConfiguration configuration)
    {
        // The storage is this app's own singleton, not only Hangfire's process-wide JobStorage.Current:
        // the server, the dashboard and IBackgroundJobClient all take it from DI, so two app instances in one
        // process (the tests) never run each other's jobs.
        var storage = new InMemoryStorage(new InMemoryStorageOptions { MaxExpirationTime = TimeSpan.FromHours(6) });
        services.AddSingleton<JobStorage>(storage);
        services.AddHangfire((sp, c) => c
            .UseLogProvider(new SurvivingLogProvider(new Hangfire.AspNetCore.AspNetCoreLogProvider(sp.GetRequiredService<ILoggerFactory>())))
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseStorage(storage)
            // Hangfire retries a failed job 10 times by default; a job that calls a provider must decide
            // on purpose whether a re-run is safe, so no job retries unless it says so itself.
            .UseFilter(new AutomaticRetryAttribute { Attempts = 0 }));
        services.AddHangfireServer(o =>
        {
            o.WorkerCount = configuration.GetValue("Jobs:WorkerCount", Math.Max(4, Environment.ProcessorCount * 2));
            o.SchedulePollingInterval = TimeSpan.FromSeconds(1);
        });
        return services;
    }

    public static IEndpointRouteBuilder MapAppJobs(this IEndpointRouteBuilder app)
    {
        app.MapHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new AdminOnly()],
            DashboardTitle = "BulkCampaigns jobs",
            AppPath = "/",
        }).RequireAuthorization(AuthSetup.AdminPolicy);
        return app;
    }

    /// <summary>
    /// Hangfire keeps its log provider in a static; when one app instance in a process stops (tests host
    /// several), its disposed logger factory must not break the others' jobs and dashboard.
    /// </summary>
    private sealed class SurvivingLogProvider(Hangfire.Logging.ILogProvider inner) : Hangfire.Logging.ILogProvider
    {
        public Hangfire.Logging.ILog GetLogger(string name)
        {
            try
            {
                return inner.GetLogger(name);
            }
            catch (ObjectDisposedException)
            {
                return Silent.Instance;
            }
        }

        private sealed class Silent : Hangfire.Logging.ILog
        {
            public static readonly Silent Instance = new();

            public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
        }
    }

    private sealed class AdminOnly : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => context.GetHttpContext().User.IsInRole(Roles.Admin);
    }
}
