using System.Diagnostics;
using BulkCampaigns.Tests.Infrastructure;
using Xunit.Abstractions;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Operating;

/// <summary>
/// README, stop and start: SIGTERM (docker stop, systemd) ends the process within 10 s with exit code 0 whatever is
/// running; batches in flight write what they sent, the rest waits for the next start. On each provider.
/// </summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class GracefulStopTests(ITestOutputHelper output)
{
    private const int Recipients = 3_000;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task SIGTERM_mid_campaign_with_a_request_stuck_exits_0_within_10_s_and_the_restart_sends_everyone_exactly_once(TestProvider provider)
    {
        using var database = TestDatabase.Create(provider);
        Task<long> CountAsync(string sql) => database.CountAsync(sql);
        var port = AppProcess.FreePort();
        string operationId;
        using (var first = AppProcess.Start(database, port, logLevel: "Information"))
        {
            await first.WaitHealthyAsync();
            await CreateSenderAsync(first.Client, "+14155550199", 300);
            var group = await InsertGroupAsync(provider == TestProvider.Sqlite ? $"Data Source={database.SqlitePath}" : database.ConnectionString,
                Enumerable.Range(0, Recipients).Select(i => (Number(i), $$"""{"n":"{{i}}"}""")));
            operationId = await SendAsync(first.Client, new
            {
                from = new { address = "+14155550199" },
                to = new[] { new { groupId = group } },
                content = new { text = "Hello #{{n}}" },
            });
            while (await CountAsync("""SELECT COUNT(*) FROM "SimulatorMessages" """) < Recipients / 5)
            {
                Assert.False(first.Process.HasExited, "the app stopped by itself");
                await Task.Delay(20);
            }
            // A request that never finishes its body: the server must not wait on it past the promise.
            using var stuck = new HttpClient { BaseAddress = first.Client.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
            stuck.DefaultRequestHeaders.Authorization = first.Client.DefaultRequestHeaders.Authorization;
            var neverEnds = new NeverEndingContent();
            var pending = stuck.PostAsync("/v1/Messages", neverEnds);
            await neverEnds.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

            var stopping = Stopwatch.StartNew();
            first.Terminate();
            var exited = await Task.Run(() => first.Process.WaitForExit(TimeSpan.FromSeconds(15)));
            stopping.Stop();
            output.WriteLine($"stopped in {stopping.ElapsedMilliseconds} ms");
            Assert.True(exited, $"the app was still running 15 s after SIGTERM:\n{first.Output}");
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {stopping.Elapsed.TotalSeconds:0.0} s:\n{first.Output}");
            Assert.True(first.Process.ExitCode == 0, $"exit code {first.Process.ExitCode}:\n{first.Output}");
            Assert.DoesNotContain("Unhandled exception", first.Output, StringComparison.Ordinal);
            _ = pending.ContinueWith(_ => { }, TaskScheduler.Default);
        }
        var received = await CountAsync("""SELECT COUNT(*) FROM "SimulatorMessages" """);
        output.WriteLine($"at stop: {received} received, {await CountAsync("""SELECT COUNT(*) FROM "ClaimedBatches" """)} claimed ranges left in flight");
        Assert.True(received < Recipients, "the stop should land in the middle of the campaign");
        // The batches wrote what they had sent before the process ended: nothing is left for the next start to settle.
        Assert.Equal(0, await CountAsync("""SELECT COUNT(*) FROM "Messages" WHERE "Status" = 2"""));
        Assert.Equal(0, await CountAsync("""SELECT COUNT(*) FROM "ClaimedBatches" """));
        Assert.Equal(received, await CountAsync("""SELECT COUNT(*) FROM "Messages" WHERE "Status" IN (3, 4, 5)"""));

        using var second = AppProcess.Start(database, port);
        await second.WaitHealthyAsync();
        var op = await WaitForStatusAsync(second.Client, operationId, "COMPLETED", timeoutSeconds: 120);
        AssertStatsAddUp(op);
        Assert.Equal(Recipients, Stat(op, "total"));
        Assert.Equal(0, Stat(op, "failed") + Stat(op, "queued") + Stat(op, "canceled"));
        Assert.Equal(Recipients, await CountAsync("""SELECT COUNT(*) FROM "SimulatorMessages" """));
        Assert.Equal(Recipients, await CountAsync("""SELECT COUNT(DISTINCT "To") FROM "SimulatorMessages" """));
        Assert.Equal(Recipients, await CountAsync("""SELECT COUNT(*) FROM "Messages" WHERE "Attempts" = 1"""));
        Assert.Equal(Recipients, Stat(op, "attempts"));
    }

    /// <summary>A request body that starts and never ends.</summary>
    private sealed class NeverEndingContent : HttpContent
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync("{\"from\":"u8.ToArray());
            await stream.FlushAsync();
            Started.TrySetResult();
            await Task.Delay(Timeout.Infinite);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
