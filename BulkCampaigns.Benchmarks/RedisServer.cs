using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace BulkCampaigns.Benchmarks;

/// <summary>
/// The Redis of a run with several nodes (their shared pace and cross-node signals use it when
/// <c>ConnectionStrings:Redis</c> is set): the one at <c>--redis host:port</c>, or a throw-away server the benchmark
/// starts itself with the repository's <c>.ci/redis</c> on its own loopback port (<c>--redis-port</c>, default 56399)
/// and stops at the end, also when the run fails.
/// </summary>
public sealed partial class RedisServer : IAsyncDisposable
{
    private readonly string? _startedPort;

    private RedisServer(string address, string? startedPort)
    {
        Address = address;
        _startedPort = startedPort;
    }

    /// <summary>host:port, as <c>ConnectionStrings:Redis</c> takes it.</summary>
    public string Address { get; }

    /// <summary>The server's process ID when the benchmark started it (its pidfile), for its CPU time; else null.</summary>
    public int? ProcessId
    {
        get
        {
            if (_startedPort is null)
            {
                return null;
            }
            try
            {
                return int.Parse(File.ReadAllText(Path.Combine(Folder(_startedPort), "redis.pid")).Trim(), CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
            {
                return null;
            }
        }
    }

    public static async Task<RedisServer> StartAsync(IReadOnlyDictionary<string, string> options, CancellationToken ct)
    {
        if (options.TryGetValue("redis", out var given))
        {
            return new RedisServer(given, null);
        }
        var port = options.TryGetValue("redis-port", out var p) ? p : "56399";
        var output = await RunAsync("start", port, ct);
        var match = ExportLine().Match(output);
        if (!match.Success)
        {
            throw new InvalidOperationException(".ci/redis start printed no address: " + output);
        }
        Console.WriteLine($"Redis: started a throw-away server on {match.Groups[1].Value} (.ci/redis)");
        return new RedisServer(match.Groups[1].Value, port);
    }

    public async ValueTask DisposeAsync()
    {
        if (_startedPort is not null)
        {
            await RunAsync("stop", _startedPort, CancellationToken.None);
        }
    }

    /// <summary>.ci/redis's folder for a port (its default, REDISTEST_DIR unset).</summary>
    private static string Folder(string port) => $"/tmp/bulkcampaigns-redis-{port}";

    private static async Task<string> RunAsync(string command, string port, CancellationToken ct)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(AppProcess.RepositoryRoot(), ".ci", "redis"), command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["REDISTEST_PORT"] = port;
        start.Environment.Remove("REDISTEST_DIR");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($".ci/redis {command} failed ({process.ExitCode}): {await stderr}");
        }
        return await stdout;
    }

    [GeneratedRegex("BULKCAMPAIGNS_TEST_REDIS='([^']+)'")]
    private static partial Regex ExportLine();
}
