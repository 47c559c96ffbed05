using BulkCampaigns.Auth;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.InMemory;

namespace BulkCampaigns.Jobs;

public static class JobsSetup
{
    public static IServiceCollection AddAppJobs(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHangfire(c => c
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseInMemoryStorage(new InMemoryStorageOptions { MaxExpirationTime = TimeSpan.FromHours(6) })
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

    private sealed class AdminOnly : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => context.GetHttpContext().User.IsInRole(Roles.Admin);
    }
}
