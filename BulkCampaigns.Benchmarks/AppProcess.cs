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
    private const string ScrapeToken = "bench-metrics-token-0123456789";

    private AppProcess(Process process, Uri baseAddress)
    {
        Process = process;
        BaseAddress = baseAddress;
    }

    public Process Process { get; }
    public Uri BaseAddress { get; }

    /// <summary>
    /// Starts the app built beside the benchmark, or the one in <paramref name="appDirectory"/> (see <see cref="PublishAsync"/>);
    /// <paramref name="settings"/> are added to (or override) the defaults, as environment variables.
    /// </summary>
    public static AppProcess Start(string database, IEnumerable<KeyValuePair<string, string>> settings, string? appDirectory = null)
    {
        var port = FreePort();
        appDirectory ??= AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet", $"\"{Path.Combine(appDirectory, "BulkCampaigns.dll")}\"")
        {
            WorkingDirectory = appDirectory,
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
        env["Metrics__ScrapeToken"] = ScrapeToken;
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

    /// <summary>
    /// Publishes the app (as the Dockerfile does) into a folder of the benchmark's output and returns it. Pages need
    /// this: in Production the app serves its static files (blazor.web.js, MudBlazor's) only from a published wwwroot,
    /// not from a build output, so a dashboard started from the build would never become interactive.
    /// </summary>
    public static async Task<string> PublishAsync(CancellationToken ct)
    {
        var output = Path.Combine(AppContext.BaseDirectory, "published-app");
        var project = Path.Combine(RepositoryRoot(), "BulkCampaigns", "BulkCampaigns.csproj");
        var start = new ProcessStartInfo("dotnet", $"publish \"{project}\" -c Release -o \"{output}\" --nologo -v q /p:UseAppHost=false")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var publish = Process.Start(start)!;
        var stdout = publish.StandardOutput.ReadToEndAsync(ct);
        var stderr = publish.StandardError.ReadToEndAsync(ct);
        await publish.WaitForExitAsync(ct);
        if (publish.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish failed ({publish.ExitCode}): {await stdout}{await stderr}");
        }
        return output;
    }

    /// <summary>The repository the benchmark was built in (the folder holding BulkCampaigns.sln).</summary>
    public static string RepositoryRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "BulkCampaigns.sln")))
        {
            root = root.Parent;
        }
        return root?.FullName ?? throw new InvalidOperationException("the repository (BulkCampaigns.sln) was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// The settings that put the app on PostgreSQL database <paramref name="connectionString"/>, its jobs too
    /// (Hangfire.PostgreSql), as a user running it on PostgreSQL would.
    /// </summary>
    public static Dictionary<string, string> PostgresSettings(string connectionString) => new()
    {
        ["Database__Provider"] = "Postgres",
        ["Jobs__Storage"] = "Postgres",
        ["ConnectionStrings__BulkCampaigns"] = connectionString,
    };

    /// <summary>Stops the app as <c>docker stop</c> would (SIGTERM), so it lets go of its database; SIGKILL after 15 s.</summary>
    public async Task StopAsync()
    {
        if (Process.HasExited)
        {
            return;
        }
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await Process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            Process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>A client of the app's API, signed with the bootstrap key.</summary>
    public HttpClient ApiClient(TimeSpan timeout)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = timeout };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Sid}:{Secret}")));
        return client;
    }

    /// <summary>
    /// Runs <paramref name="work"/> and answers the app's memory growth during it: its peak working set minus its
    /// working set at the start. The peak is the kernel's high-water mark (VmHWM, reset at the start through
    /// clear_refs so start-up does not count) and, where that can't be reset, samples taken every 20 ms.
    /// </summary>
    public async Task<(T Result, double GrowthMb)> MeasureMemoryAsync<T>(Func<Task<T>> work)
    {
        Process.Refresh();
        var cpuBefore = Process.TotalProcessorTime;
        var before = StatusKiB("VmRSS") ?? Process.WorkingSet64 / 1024;
        var highWaterReset = TryResetHighWater();
        long peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                if (StatusKiB("VmRSS") is { } rss)
                {
                    peak = Math.Max(peak, rss);
                }
                try
                {
                    await Task.Delay(20, sampling.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
        T result;
        try
        {
            result = await work();
        }
        finally
        {
            await sampling.CancelAsync();
            await sampler;
        }
        if (highWaterReset && StatusKiB("VmHWM") is { } hwm)
        {
            peak = Math.Max(peak, hwm);
        }
        Process.Refresh();
        CpuSecondsOfLastMeasure = (Process.TotalProcessorTime - cpuBefore).TotalSeconds;
        return (result, (peak - before) / 1024.0);
    }

    /// <summary>
    /// The folder of <c>--app &lt;folder&gt;</c>: an app built elsewhere (another commit's <c>bin/Release/net10.0</c>, a
    /// ReadyToRun publish) that a scenario's measured runs use instead of the one beside the benchmark; null without it.
    /// </summary>
    public static string? AppDirectory(IReadOnlyDictionary<string, string> options) =>
        options.TryGetValue("app", out var folder) ? Path.GetFullPath(folder) : null;

    /// <summary>Extra app settings from <c>--env KEY=VALUE,KEY=VALUE</c> (e.g. <c>DOTNET_gcServer=0</c>), for experiments.</summary>
    public static Dictionary<string, string> ParseEnv(IReadOnlyDictionary<string, string> options)
    {
        var settings = new Dictionary<string, string>();
        if (options.TryGetValue("env", out var extra))
        {
            foreach (var pair in extra.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = pair.Split('=', 2);
                settings[parts[0]] = parts[1];
            }
        }
        return settings;
    }

    /// <summary>
    /// Prints the runtime's GC figures from the app's <c>/metrics</c> (heap by generation after the last collection,
    /// committed memory, collections), to see where the memory growth went.
    /// </summary>
    public async Task PrintGcFiguresAsync(HttpClient client, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ScrapeToken);
        using var response = await client.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            Console.WriteLine($"GC figures: /metrics answered {(int)response.StatusCode}");
            return;
        }
        var lines = (await response.Content.ReadAsStringAsync(ct)).Split('\n')
            .Where(l => l.StartsWith("dotnet_gc_", StringComparison.Ordinal) || l.StartsWith("dotnet_process_memory", StringComparison.Ordinal))
            .Select(l => l.Replace("otel_scope_name=\"System.Runtime\",", "", StringComparison.Ordinal));
        Console.WriteLine("GC figures of the app: " + string.Join("; ", lines));
    }

    /// <summary>
    /// The app's CPU time (all threads) during the last <see cref="MeasureMemoryAsync"/>: on a shared machine the wall
    /// time moves with the load, the CPU time much less.
    /// </summary>
    public double CpuSecondsOfLastMeasure { get; private set; }

    /// <summary>The app's working set now, in MB (from /proc, or the runtime's figure elsewhere).</summary>
    public double WorkingSetMb()
    {
        if (StatusKiB("VmRSS") is { } rss)
        {
            return rss / 1024.0;
        }
        Process.Refresh();
        return Process.WorkingSet64 / (1024.0 * 1024.0);
    }

    /// <summary>A figure of /proc/&lt;pid&gt;/status in KiB, or null when there is none (not Linux, or the app exited).</summary>
    private long? StatusKiB(string name)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Process.Id}/status"))
            {
                if (line.StartsWith(name + ":", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(name.Length + 1).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    private bool TryResetHighWater()
    {
        try
        {
            File.WriteAllText($"/proc/{Process.Id}/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public async Task WaitHealthyAsync(HttpClient client, CancellationToken ct)
    {
        // Three minutes: a start (JIT, migrations) on a shared machine at load 60 took over one.
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(3))
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException("the app exited at start");
            }
            try
            {
                if ((await client.GetAsync("/healthz", ct)).IsSuccessStatusCode)
                {
                    // Start-up settings (JIT tiers, GC) trade this against the speed of the first import or campaign.
                    Console.WriteLine($"app healthy {(DateTime.Now - Process.StartTime).TotalSeconds:0.00} s after its process started");
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
