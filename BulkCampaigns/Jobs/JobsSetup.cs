using BulkCampaigns.Auth;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.Dashboard;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using BulkCampaigns.Data;

namespace BulkCampaigns.Jobs;

public static class JobsSetup
{
    /// <summary>The schema Hangfire's tables live in, beside the app's tables in the same PostgreSQL database.</summary>
    public const string PostgresSchema = "hangfire";

    /// <summary>
    /// <c>Jobs:Storage</c>: <c>InMemory</c> (the default with SQLite) or <c>Postgres</c> (the default with PostgreSQL,
    /// where jobs then survive a restart and every node shares one queue). Null and a sentence when the settings can't work.
    /// </summary>
    public static (bool Postgres, string? Problem) ReadStorage(IConfiguration configuration)
    {
        var database = DataSetup.ReadProvider(configuration).Provider;
        var name = configuration["Jobs:Storage"];
        if (string.IsNullOrWhiteSpace(name))
        {
            return (database == DatabaseProvider.Postgres, null);
        }
        if (name.Equals("InMemory", StringComparison.OrdinalIgnoreCase))
        {
            return (false, null);
        }
        if (name.Equals("Postgres", StringComparison.OrdinalIgnoreCase) || name.Equals("PostgreSQL", StringComparison.OrdinalIgnoreCase))
        {
            return database == DatabaseProvider.Postgres
                ? (true, null)
                : (false, "Jobs:Storage is Postgres, which keeps the jobs in the app's PostgreSQL database; set Database:Provider=Postgres too, or Jobs:Storage=InMemory.");
        }
        return (false, $"Jobs:Storage is '{name}'; use InMemory or Postgres.");
    }

    /// <summary>
    /// Hangfire on PostgreSQL. An idle worker looks at the queue five times a second, so a job (a batch, a resumed
    /// campaign's batches) starts within a fifth of a second rather than after the 15 s default poll. Fetching marks a
    /// job invisible rather than holding a transaction open for its run; the sliding invisibility timeout has the
    /// running server renew that mark, so a long batch is never handed to a second worker while the first still runs,
    /// and a job whose process died becomes visible again after <c>InvisibilityTimeout</c>.
    /// </summary>
    /// <remarks>
    /// Not LISTEN/NOTIFY (<c>EnableLongPolling</c>): with it, Hangfire.PostgreSql 1.21.1 starts a listener for every fetch
    /// and waits for it to stop before the fetched job runs; a listener told to stop just before it began waiting kept
    /// waiting for the next NOTIFY. The job then sat fetched, and invisible to every other worker, until some other job
    /// was enqueued: seen in the dispatch benchmark on PostgreSQL in about one run in four (a batch enqueued at
    /// 12:31:07.889 started at 12:32:16.466, 16 ms after the stall rescue enqueued the next job), which held a whole
    /// campaign 40 s. Polling costs one indexed query on a small table per idle worker every 200 ms.
    /// </remarks>
    public static PostgreSqlStorageOptions PostgresOptions(TimeSpan? invisibilityTimeout = null) => new()
    {
        SchemaName = PostgresSchema,
        PrepareSchemaIfNecessary = true,
        QueuePollInterval = TimeSpan.FromMilliseconds(200),
        EnableLongPolling = false,
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = invisibilityTimeout ?? TimeSpan.FromMinutes(5),
        // Hangfire's locks on PostgreSQL are rows, deleted on release: a process killed while it held one (the scheduler
        // holds one each second to move due jobs to the queue) left every node unable to start scheduled work (a
        // scheduled campaign, an A/B decision, the end of quiet hours) until the row was this old; 10 minutes by default.
        // The app's own locked jobs (a scheduled start, an A/B decision) are short and safe to run twice.
        DistributedLockTimeout = TimeSpan.FromMinutes(1),
        // The app checked the server at start (DataSetup.MigrateAsync); failing later is a real failure, not a retry loop.
        StartupConnectionMaxRetries = 0,
        AllowDegradedModeWithoutStorage = false,
    };

    private static PostgreSqlStorage PostgresStorage(string connectionString, TimeSpan invisibilityTimeout)
    {
        var options = PostgresOptions(invisibilityTimeout);
        return new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(connectionString, options), options);
    }

    public static IServiceCollection AddAppJobs(this IServiceCollection services, IConfiguration configuration)
    {
        var postgres = ReadStorage(configuration).Postgres;
        // Hangfire keeps its storage, activator and log provider in process-wide statics. Each app registers its
        // own storage and activator so that apps hosted side by side (integration tests) never run each other's
        // jobs nor use each other's disposed queue; the storage is made once this app's logging is in place.
        JobStorage? storage = null;
        services.AddSingleton<JobStorage>(sp =>
        {
            _ = sp.GetRequiredService<IGlobalConfiguration>();
            return storage!;
        });
        services.AddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, c) =>
        {
            c.UseLogProvider(new SurvivingLogProvider(new AspNetCoreLogProvider(sp.GetRequiredService<ILoggerFactory>())));
            storage = postgres
                ? PostgresStorage(sp.GetRequiredService<DatabaseConnection>().ConnectionString,
                    configuration.GetValue("Jobs:InvisibilityTimeout", TimeSpan.FromMinutes(5)))
                : new InMemoryStorage(new InMemoryStorageOptions { MaxExpirationTime = TimeSpan.FromHours(6) });
            c.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings()
                .UseActivator(sp.GetRequiredService<JobActivator>())
                .UseStorage(storage)
                // Hangfire retries a failed job 10 times by default; a job that calls a provider must decide
                // on purpose whether a re-run is safe, so no job retries unless it says so itself.
                .UseFilter(new AutomaticRetryAttribute { Attempts = 0 });
        });
        var workers = configuration.GetValue("Jobs:WorkerCount", Math.Max(4, Environment.ProcessorCount * 2));
        var ownQueue = Dispatch.NodeOptions.QueueOf(Dispatch.NodeOptions.ResolveName(configuration));
        // WorkerCount=0 with shared storage: a node for the pages and the API, whose batches and other shared jobs the
        // other nodes run. Its uploads are still its own to import (the file is on its disk, the job on its queue,
        // which no other node reads), so it keeps one worker that listens to that queue only.
        var ownQueueOnly = workers <= 0 && postgres;
        services.AddHangfireServer(o =>
        {
            o.WorkerCount = Math.Max(1, workers);
            o.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            // The shared queue, and this node's own for jobs that need its disk (an import reads the uploaded file
            // from the local data folder; see Recipients/README.md).
            o.Queues = ownQueueOnly ? [ownQueue] : [ownQueue, Hangfire.States.EnqueuedState.DefaultQueue];
            // On stop, jobs see their cancellation token at once (a batch stops claiming and writes what it sent);
            // the server is given up on after a short wait rather than Hangfire's 15 s, so the whole stop fits in
            // Docker's 10 s grace. Whatever a job had not written is settled at the next start.
            o.StopTimeout = TimeSpan.Zero;
            o.ShutdownTimeout = JobsStopWait;
        });
        BoundHangfireStop(services);
        return services;
    }

    /// <summary>How long stopping waits for running jobs before leaving them to the next start's recovery.</summary>
    public static readonly TimeSpan JobsStopWait = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Hangfire's hosted service waits for its jobs on the host's stop token and lets the cancellation escape when
    /// that runs out; the host then rethrows it out of RunAsync and the process dies (exit 134) instead of exiting.
    /// Its registration is wrapped so that the wait is bounded and running out of time is a log line, not a crash.
    /// </summary>
    private static void BoundHangfireStop(IServiceCollection services)
    {
        var hangfire = services.Last(d => d.ServiceType == typeof(IHostedService));
        services.Remove(hangfire);
        services.AddSingleton<IHostedService>(sp =>
        {
            var inner = hangfire.ImplementationFactory is { } make
                ? (IHostedService)make(sp)
                : (IHostedService)ActivatorUtilities.CreateInstance(sp, hangfire.ImplementationType!);
            return new BoundedStop(inner, sp.GetRequiredService<ILogger<BoundedStop>>());
        });
    }

    internal sealed class BoundedStop(IHostedService inner, ILogger<BoundedStop> log) : IHostedService, IDisposable
    {
        public Task StartAsync(CancellationToken cancellationToken) => inner.StartAsync(cancellationToken);

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(JobsStopWait);
            try
            {
                await inner.StopAsync(bounded.Token);
            }
            catch (OperationCanceledException)
            {
                log.LogWarning("Background jobs did not stop within {Seconds} s; what they had not written is settled at the next start", JobsStopWait.TotalSeconds);
            }
        }

        public void Dispose() => (inner as IDisposable)?.Dispose();
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
