using System.Collections.Concurrent;
using System.Diagnostics;
using BulkCampaigns.Tests.Infrastructure;
using BulkCampaigns.Jobs;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Postgres;

/// <summary>Hangfire on PostgreSQL (the default job storage there): quick to start a job, never two runs of one job at once.</summary>
public sealed class PostgresJobsTests
{
    [Fact]
    public async Task A_job_enqueued_on_PostgreSQL_storage_by_another_process_starts_within_a_second()
    {
        using var app = new PostgresAppFactory();
        _ = app.CreateClient();
        Assert.Equal("PostgreSqlStorage", app.Services.GetRequiredService<JobStorage>().GetType().Name);
        // Enqueued through storage of its own, as another node would: the app's workers don't hear of it in process
        // (Hangfire wakes local workers itself), only through the database.
        var options = JobsSetup.PostgresOptions();
        var elsewhere = new PostgreSqlStorage(new NpgsqlConnectionFactory(app.Database.ConnectionString, options), options);
        var jobs = new BackgroundJobClient(elsewhere);
        await RunAsync(jobs, TimeSpan.Zero); // the workers are up

        for (var i = 0; i < 3; i++)
        {
            // The workers idle first: finishing a job wakes them in process, which would hide a slow poll.
            await Task.Delay(TimeSpan.FromSeconds(2));
            var clock = Stopwatch.StartNew();
            var probe = JobProbe.Expect();
            jobs.Enqueue(() => JobProbe.Run(probe.Id, 0));
            await probe.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"job {i} started {clock.ElapsedMilliseconds} ms after it was enqueued");
            await probe.Finished.Task;
        }
    }

    [Fact]
    public async Task A_job_running_longer_than_the_invisibility_timeout_is_not_handed_to_a_second_worker()
    {
        using var app = new PostgresAppFactory();
        app.Settings["Jobs:InvisibilityTimeout"] = "00:00:02";
        app.Settings["Jobs:WorkerCount"] = "4";
        _ = app.CreateClient();
        var jobs = app.Services.GetRequiredService<IBackgroundJobClient>();

        // Runs 7 s: three invisibility timeouts. Without the running server renewing its claim, an idle worker takes it again.
        var probe = await RunAsync(jobs, TimeSpan.FromSeconds(7));
        await Task.Delay(TimeSpan.FromSeconds(3)); // a second run would start within this

        Assert.Equal(1, probe.Runs);
    }

    private static async Task<JobProbe.Probe> RunAsync(IBackgroundJobClient jobs, TimeSpan length)
    {
        var probe = JobProbe.Expect();
        jobs.Enqueue(() => JobProbe.Run(probe.Id, (int)length.TotalMilliseconds));
        await probe.Finished.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return probe;
    }
}

/// <summary>A job Hangfire can call by name; each run reports to the test that enqueued it.</summary>
public static class JobProbe
{
    private static readonly ConcurrentDictionary<Guid, Probe> Probes = new();

    public sealed class Probe
    {
        private int _runs;

        public Guid Id { get; } = Guid.NewGuid();
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Runs => Volatile.Read(ref _runs);

        internal void Ran() => Interlocked.Increment(ref _runs);
    }

    public static Probe Expect()
    {
        var probe = new Probe();
        Probes[probe.Id] = probe;
        return probe;
    }

    public static async Task Run(Guid id, int milliseconds)
    {
        var probe = Probes[id];
        probe.Ran();
        probe.Started.TrySetResult();
        await Task.Delay(milliseconds);
        probe.Finished.TrySetResult();
    }
}
