using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>
/// The product's promise on failure: kill the process at any moment of a campaign and start it again; the
/// campaign goes on by itself and every recipient gets the message once.
/// </summary>
public sealed class CrashResumeTests(ITestOutputHelper output) : IDisposable
{
    private const int Recipients = 20_000;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "bulkcampaigns-tests", "crash-" + Guid.NewGuid().ToString("N"));

    private string DatabasePath => Path.Combine(_folder, "app.db");

    [Fact]
    public async Task Killed_with_SIGKILL_mid_operation_it_resumes_on_restart_and_every_recipient_gets_exactly_one_message()
    {
        Directory.CreateDirectory(_folder);
        var port = FreePort();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        client.DefaultRequestHeaders.Authorization = AppFactory.BasicAuth(AppFactory.ApiKeySid, AppFactory.ApiKeySecret);

        string operationId;
        long receivedAtKill;
        using (var first = StartApp(port))
        {
            await WaitHealthyAsync(client, first);
            await CreateSenderAsync(client, "+14155550199", 5000);
            var group = await InsertGroupAsync($"Data Source={DatabasePath}",
                Enumerable.Range(0, Recipients).Select(i => (Number(i), $$"""{"n":"{{i}}"}""")));
            operationId = await SendAsync(client, new
            {
                from = new { address = "+14155550199" },
                to = new[] { new { groupId = group } },
                content = new { text = "Hello #{{n}}" },
            });
            // Kill while it is sending: some received, many not.
            while ((receivedAtKill = await CountAsync("SELECT COUNT(*) FROM SimulatorMessages")) < Recipients / 4)
            {
                Assert.False(first.HasExited, "the app stopped by itself");
                await Task.Delay(20);
            }
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
        }
        Assert.True(receivedAtKill < Recipients, "the kill should land in the middle of the operation");
        var inFlight = await CountAsync("SELECT COUNT(*) FROM Messages WHERE Status = 2");
        var receivedButNotWritten = await CountAsync("SELECT COUNT(*) FROM SimulatorMessages s JOIN Messages m ON m.Id = s.CallbackMessageId WHERE m.Status = 2");
        output.WriteLine($"at kill: {receivedAtKill} received, {inFlight} in flight, {receivedButNotWritten} of them received but not yet written as sent");

        using var second = StartApp(port);
        try
        {
            await WaitHealthyAsync(client, second);
            var op = await WaitForStatusAsync(client, operationId, "COMPLETED", timeoutSeconds: 120);
            AssertStatsAddUp(op);
            Assert.Equal(Recipients, Stat(op, "total"));
            Assert.Equal(0, Stat(op, "failed") + Stat(op, "queued") + Stat(op, "canceled"));

            Assert.Equal(Recipients, await CountAsync("SELECT COUNT(*) FROM SimulatorMessages"));
            Assert.Equal(Recipients, await CountAsync("SELECT COUNT(DISTINCT \"To\") FROM SimulatorMessages"));
            Assert.Equal(0, await CountAsync("""
                SELECT COUNT(*) FROM SimulatorMessages s JOIN Messages m ON m.Id = s.CallbackMessageId
                WHERE s.Body <> 'Hello #' || json_extract(m.VariablesJson, '$.n') OR s."To" <> m.Address
                """));
            Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM Messages WHERE Status IN (1, 2)"));

            // Delivery reports pending at the kill are stored, so they arrive after the restart too.
            op = await WaitForAsync(client, operationId, o => Stat(o, "delivered") == Recipients, timeoutSeconds: 120);
            AssertStatsAddUp(op);
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
        }
    }

    private Process StartApp(int port)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "BulkCampaigns.dll")}\"")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var env = start.Environment;
        env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        env["ASPNETCORE_ENVIRONMENT"] = "Development";
        env["ConnectionStrings__BulkCampaigns"] = $"Data Source={DatabasePath}";
        env["Bootstrap__ApiKeySid"] = AppFactory.ApiKeySid;
        env["Bootstrap__ApiKeySecret"] = AppFactory.ApiKeySecret;
        env["Messaging__Simulated__LatencyMs"] = "2";
        env["Messaging__Simulated__FailureRate"] = "0";
        env["Messaging__Simulated__UndeliveredRate"] = "0";
        env["Messaging__Simulated__DeliveryDelayMs"] = "500";
        env["Dispatch__BatchSize"] = "500";
        env["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitHealthyAsync(HttpClient client, Process process)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.False(process.HasExited, $"the app exited with {(process.HasExited ? process.ExitCode : 0)}");
            try
            {
                if ((await client.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            Assert.True(DateTime.UtcNow < until, "the app did not start");
            await Task.Delay(100);
        }
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        try
        {
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (SqliteException)
        {
            return 0; // the table is not there yet
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
