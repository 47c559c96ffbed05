using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace BulkCampaigns.Benchmarks;

/// <summary>
/// The app started as its own process, as in production (Production environment, a database file, the
/// Simulator with zero latency and no failures), on a free loopback port with a bootstrap API key, so the
/// figures of one scenario are the app's alone. Disposing kills it if it still runs.
/// </summary>
public sealed class AppProcess : IDisposable
{
    public const string Sid = "SKbench0000000000000000000000000";
    public const string Secret = "bench-secret";

    private AppProcess(Process process, Uri baseAddress)
    {
        Process = process;
        BaseAddress = baseAddress;
    }

    public Process Process { get; }
    public Uri BaseAddress { get; }

    /// <summary>Starts the built app beside the benchmark; <paramref name="settings"/> are added to (or override) the defaults, as environment variables.</summary>
    public static AppProcess Start(string database, IEnumerable<KeyValuePair<string, string>> settings)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "BulkCampaigns.dll")}\"")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var env = start.Environment;
        env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        env["ASPNETCORE_ENVIRONMENT"] = "Production";
        env["ConnectionStrings__BulkCampaigns"] = $"Data Source={database}";
        env["Bootstrap__ApiKeySid"] = Sid;
        env["Bootstrap__ApiKeySecret"] = Secret;
        env["Messaging__Simulated__LatencyMs"] = "0";
        env["Messaging__Simulated__FailureRate"] = "0";
        env["Messaging__Simulated__UndeliveredRate"] = "0";
        env["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings)
        {
            env[key] = value;
        }
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) Console.Error.WriteLine("app: " + e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) Console.Error.WriteLine("app: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new AppProcess(process, new Uri($"http://127.0.0.1:{port}"));
    }

    /// <summary>A client of the app's API, signed with the bootstrap key.</summary>
    public HttpClient ApiClient(TimeSpan timeout)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = timeout };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Sid}:{Secret}")));
        return client;
    }

    public async Task WaitHealthyAsync(HttpClient client, CancellationToken ct)
    {
        for (var i = 0; i < 600; i++)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException("the app exited at start");
            }
            try
            {
                if ((await client.GetAsync("/healthz", ct)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100, ct);
        }
        throw new TimeoutException("the app did not start");
    }

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }
        Process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
