using System.Collections.Concurrent;
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
        using var database = TestDatabase.Create(TestProvider.Postgres);
        using var app = AppProcess.Start(database);
        await app.WaitHealthyAsync();
        // The job is enqueued from this test process, the app runs in its own: Hangfire.PostgreSql wakes the workers of
        // the process that enqueued in memory (a static event), which would hide a slow poll if both were one process.
        // Only the database (the app's poll of its queue) can tell the app's idle workers of this job.
        var jobs = ClientElsewhere(database);
        await PickUpAsync(database, jobs); // the workers are up

        for (var i = 0; i < 3; i++)
        {
            // The workers idle first: a worker that just finished a job looks at the queue again at once.
            await Task.Delay(TimeSpan.FromSeconds(2));
            var pickUp = await PickUpAsync(database, jobs);
            Assert.True(pickUp < TimeSpan.FromSeconds(1), $"job {i} started {pickUp.TotalMilliseconds:0} ms after it was enqueued");
        }
    }

    [Fact]
    public async Task Every_job_of_a_burst_runs_and_none_waits_for_a_later_enqueue_to_wake_it()
    {
        using var database = TestDatabase.Create(TestProvider.Postgres);
        using var app = AppProcess.Start(database);
        await app.WaitHealthyAsync();
        var jobs = ClientElsewhere(database);

        // As a campaign's launch does: a burst of short jobs, then nothing more is enqueued. A worker that fetched one
        // and then waited for a notification (LISTEN/NOTIFY) would hold it until the next enqueue, which never comes.
        const int burst = 600;
        var ids = new List<long>(burst);
        for (var i = 0; i < burst; i++)
        {
            ids.Add(long.Parse(jobs.Enqueue(() => Task.Delay(1)), System.Globalization.CultureInfo.InvariantCulture));
        }

        await using var connection = database.OpenPostgres();
        var until = DateTime.UtcNow.AddSeconds(30);
        long done;
        while (true)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM hangfire.job WHERE id = ANY(@ids) AND statename = 'Succeeded'";
            command.Parameters.AddWithValue("ids", ids.ToArray());
            done = (long)(await command.ExecuteScalarAsync())!;
            if (done == burst || DateTime.UtcNow > until)
            {
                break;
            }
            await Task.Delay(200);
        }
        Assert.True(done == burst, $"{burst - done} of {burst} jobs had not run 30 s after the last was enqueued");
    }

    /// <summary>A job client of this test process on the app's database, as another node's would be.</summary>
    private static BackgroundJobClient ClientElsewhere(TestDatabase database)
    {
        var options = JobsSetup.PostgresOptions();
        return new BackgroundJobClient(new PostgreSqlStorage(new NpgsqlConnectionFactory(database.ConnectionString, options), options));
    }

    [Fact]
    public async Task A_lock_left_by_a_killed_process_holds_scheduled_jobs_back_for_a_minute_not_ten()
    {
        using var database = TestDatabase.Create(TestProvider.Postgres);
        using var app = AppProcess.Start(database);
        await app.WaitHealthyAsync();
        // A process killed while its scheduler held the lock that moves due jobs to the queue leaves the lock's row.
        await using (var connection = database.OpenPostgres())
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                DELETE FROM hangfire.lock WHERE resource = 'hangfire:locks:schedulepoller';
                INSERT INTO hangfire.lock (resource, updatecount, acquired) VALUES ('hangfire:locks:schedulepoller', 0, now() AT TIME ZONE 'UTC' - interval '70 seconds');
                """;
            await command.ExecuteNonQueryAsync();
        }
        var jobs = ClientElsewhere(database);

        var id = long.Parse(jobs.Schedule(() => Task.Delay(10), TimeSpan.FromSeconds(1)), System.Globalization.CultureInfo.InvariantCulture);

        await using var check = database.OpenPostgres();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var command = check.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM hangfire.state WHERE jobid = @id AND name = 'Succeeded'";
            command.Parameters.AddWithValue("id", id);
            if ((long)(await command.ExecuteScalarAsync())! > 0)
            {
                break;
            }
            Assert.True(DateTime.UtcNow < until, "the scheduled job did not run within 30 s of a 70 s old dead lock");
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Enqueues a job the app can run (a BCL method: it needs nothing of this test assembly) and answers how long after
    /// its Enqueued state its Processing state was written, both times as Hangfire stored them.
    /// </summary>
    private static async Task<TimeSpan> PickUpAsync(TestDatabase database, BackgroundJobClient jobs)
    {
        var id = long.Parse(jobs.Enqueue(() => Task.Delay(50)), System.Globalization.CultureInfo.InvariantCulture);
        await using var connection = database.OpenPostgres();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT MAX(createdat) FILTER (WHERE name = 'Processing') - MAX(createdat) FILTER (WHERE name = 'Enqueued')
                FROM hangfire.state WHERE jobid = @id
                """;
            command.Parameters.AddWithValue("id", id);
            if (await command.ExecuteScalarAsync() is TimeSpan pickUp)
            {
                return pickUp;
            }
            Assert.True(DateTime.UtcNow < until, $"job {id} did not start within 30 s");
            await Task.Delay(50);
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
