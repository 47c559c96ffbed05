using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Tests.Infrastructure;

/// <summary>
/// The built app started as a child process on a SQLite file, like an operator runs it: for what only a real
/// process shows (a SIGKILL, a SIGTERM and its exit code, a restart on the same file or on a backup).
/// </summary>
public sealed class AppProcess : IDisposable
{
    private readonly StringBuilder _output = new();

    private AppProcess(Process process, int port)
    {
        Process = process;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Client.DefaultRequestHeaders.Authorization = AppFactory.BasicAuth(AppFactory.ApiKeySid, AppFactory.ApiKeySecret);
    }

    public Process Process { get; }
    public int Port { get; }

    /// <summary>Signs every request with the bootstrap API key.</summary>
    public HttpClient Client { get; }

    /// <summary>What the app wrote to its standard output and error so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts the app on <paramref name="databasePath"/> with a simulator that never fails; <paramref name="settings"/>
    /// (configuration keys, <c>:</c> or <c>__</c>) override the defaults.
    /// </summary>
    public static AppProcess Start(string databasePath, int? port = null, IReadOnlyDictionary<string, string>? settings = null, string logLevel = "Warning") =>
        Start(new Dictionary<string, string> { ["ConnectionStrings:BulkCampaigns"] = $"Data Source={databasePath}" }, port, settings, logLevel);

    /// <summary>Starts the app on <paramref name="database"/> (SQLite or PostgreSQL), like <see cref="Start(string, int?, IReadOnlyDictionary{string, string}?, string)"/>.</summary>
    public static AppProcess Start(TestDatabase database, int? port = null, IReadOnlyDictionary<string, string>? settings = null, string logLevel = "Warning") =>
        Start(database.Settings, port, settings, logLevel);

    private static AppProcess Start(IReadOnlyDictionary<string, string> databaseSettings, int? port, IReadOnlyDictionary<string, string>? settings, string logLevel)
    {
        var chosenPort = port ?? FreePort();
        var start = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "BulkCampaigns.dll")}\"")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var env = start.Environment;
        env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{chosenPort}";
        env["ASPNETCORE_ENVIRONMENT"] = "Development";
        env["Bootstrap__AdminEmail"] = AppFactory.AdminEmail;
        env["Bootstrap__AdminPassword"] = AppFactory.AdminPassword;
        env["Bootstrap__ApiKeySid"] = AppFactory.ApiKeySid;
        env["Bootstrap__ApiKeySecret"] = AppFactory.ApiKeySecret;
        env["Messaging__Simulated__LatencyMs"] = "2";
        env["Messaging__Simulated__FailureRate"] = "0";
        env["Messaging__Simulated__UndeliveredRate"] = "0";
        env["Messaging__Simulated__DeliveryDelayMs"] = "500";
        env["Dispatch__BatchSize"] = "500";
        env["Api__RateLimit__PermitsPerSecond"] = "100000";
        env["Api__RateLimit__Burst"] = "100000";
        env["Logging__LogLevel__Default"] = logLevel;
        foreach (var (key, value) in databaseSettings.Concat(settings ?? new Dictionary<string, string>()))
        {
            env[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var app = new AppProcess(Process.Start(start)!, chosenPort);
        app.Process.OutputDataReceived += (_, e) => app.Append(e.Data);
        app.Process.ErrorDataReceived += (_, e) => app.Append(e.Data);
        app.Process.BeginOutputReadLine();
        app.Process.BeginErrorReadLine();
        return app;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            // Enough to explain a failure without holding a long run's every line.
            if (_output.Length > 200_000)
            {
                _output.Remove(0, _output.Length - 100_000);
            }
            _output.AppendLine(line);
        }
    }

    /// <summary>Waits until the app answers <c>/healthz</c>.</summary>
    public async Task WaitHealthyAsync(int timeoutSeconds = 60)
    {
        var until = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            Assert.False(Process.HasExited, $"the app exited with {(Process.HasExited ? Process.ExitCode : 0)}:\n{Output}");
            try
            {
                if ((await Client.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK)
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

    /// <summary>Sends SIGTERM, as <c>docker stop</c> and systemd do.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>SIGKILL: the process dies at once, nothing of it runs.</summary>
    public async Task KillAsync()
    {
        Process.Kill(entireProcessTree: true);
        await Process.WaitForExitAsync();
    }

    /// <summary>One number from the database file, read-only, beside the running app; 0 while the table is not there yet.</summary>
    public static async Task<long> CountAsync(string databasePath, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        try
        {
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (SqliteException)
        {
            return 0;
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
        }
        Process.Dispose();
        Client.Dispose();
    }
}
