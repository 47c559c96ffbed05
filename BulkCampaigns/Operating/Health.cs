using System.Net.Sockets;
using BulkCampaigns.Data;
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
        // Hook for several nodes: when a Redis is configured (for the job queue and the live updates of a cluster),
        // a node that can't reach it is not ready. Nothing uses Redis yet; the check only needs its address.
        if (configuration.GetConnectionString("Redis") is { Length: > 0 } redis)
        {
            checks.AddCheck("redis", new TcpReachable(redis), tags: [Ready]);
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

    /// <summary>Whether the first host:port of a StackExchange.Redis-style connection string takes a TCP connection.</summary>
    private sealed class TcpReachable(string connectionString) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var endpoint = connectionString.Split(',')[0].Trim();
            var colon = endpoint.LastIndexOf(':');
            var host = colon > 0 ? endpoint[..colon] : endpoint;
            var port = colon > 0 && int.TryParse(endpoint[(colon + 1)..], out var p) ? p : 6379;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                using var client = new TcpClient();
                await client.ConnectAsync(host, port, timeout.Token);
                return HealthCheckResult.Healthy($"{host}:{port} answers");
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy($"{host}:{port} does not answer: {ex.Message}");
            }
        }
    }
}
