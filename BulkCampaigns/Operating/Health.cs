using BulkCampaigns.Data;
using BulkCampaigns.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BulkCampaigns.Operating;

/// <summary>
/// <c>/healthz</c> is liveness: the process answers (restart it if not); it checks nothing else, so a slow database
/// never gets a live node killed. <c>/readyz</c> is readiness: the node can do its work now (the database answers,
/// and Redis when one is configured); a load balancer sends traffic only to ready nodes. Both name the node.
/// </summary>
public static class Health
{
    private const string Ready = "ready";

    public static IServiceCollection AddHealth(this IServiceCollection services, IConfiguration configuration)
    {
        var checks = services.AddHealthChecks().AddDbContextCheck<AppDbContext>("database", tags: [Ready]);
        // Several nodes: the live updates, the pause wake-up and the senders' pace go through Redis; a node that can't
        // reach it is not ready.
        if (SharedRedis.ConnectionString(configuration) is not null)
        {
            checks.AddCheck<RedisAnswers>("redis", tags: [Ready]);
        }
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        var configuration = app.ServiceProvider.GetRequiredService<IConfiguration>();
        var node = configuration["Node:Name"] is { Length: > 0 } name ? name : $"{Environment.MachineName}:{Environment.ProcessId}";
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = (c, r) => WriteAsync(c, r, node) })
            .AllowAnonymous().ExcludeFromDescription();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = (c, r) => WriteAsync(c, r, node) })
            .AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report, string node) =>
        context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            node,
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        });

    /// <summary>Whether the shared Redis answers a PING within 2 s.</summary>
    private sealed class RedisAnswers(SharedRedis redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var took = await redis.Database.PingAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
                return HealthCheckResult.Healthy($"Redis answers ({took.TotalMilliseconds:0.#} ms)");
            }
            catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy($"Redis does not answer: {ex.Message}");
            }
        }
    }
}
