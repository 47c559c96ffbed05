using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace BulkCampaigns.Benchmarks;

/// <summary>
/// The PostgreSQL server of a <c>--db postgres</c> run: the one at <c>--pg "Host=…;Port=…;Username=…"</c>, or a
/// throw-away cluster the benchmark starts itself with the repository's <c>.ci/postgres</c> on its own loopback port
/// (<c>--pg-port</c>, default 55499) and stops at the end. Every run gets a database of its own.
/// </summary>
public sealed partial class PostgresServer : IAsyncDisposable
{
    private readonly string? _startedPort;

    private PostgresServer(string connectionString, string? startedPort)
    {
        ServerConnectionString = connectionString;
        _startedPort = startedPort;
    }

    /// <summary>The server's connection string, without a database.</summary>
    public string ServerConnectionString { get; }

    /// <summary>True when the scenario was asked to run on PostgreSQL (<c>--db postgres</c>).</summary>
    public static bool Wanted(IReadOnlyDictionary<string, string> options) =>
        options.TryGetValue("db", out var db) && db.Equals("postgres", StringComparison.OrdinalIgnoreCase);

    public static async Task<PostgresServer> StartAsync(IReadOnlyDictionary<string, string> options, CancellationToken ct)
    {
        if (options.TryGetValue("pg", out var given))
        {
            return new PostgresServer(given, null);
        }
        var port = options.TryGetValue("pg-port", out var p) ? p : "55499";
        var output = await RunAsync("bash", [Path.Combine(AppProcess.RepositoryRoot(), ".ci", "postgres"), "start"], new() { ["PGTEST_PORT"] = port }, ct);
        var match = ExportLine().Match(output);
        if (!match.Success)
        {
            throw new InvalidOperationException(".ci/postgres start printed no connection string: " + output);
        }
        Console.WriteLine($"PostgreSQL: started a throw-away cluster on 127.0.0.1:{port} (.ci/postgres)");
        return new PostgresServer(match.Groups[1].Value, port);
    }

    /// <summary>The connection string of database <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = database }.ConnectionString;

    /// <summary>Creates <paramref name="database"/> (dropping one of that name first), as a copy of <paramref name="template"/> when given.</summary>
    public async Task CreateDatabaseAsync(string database, string? template, CancellationToken ct)
    {
        await DropDatabaseAsync(database, ct);
        // A template must have no connection: the app that filled it may take a moment to be gone from the server.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await ExecuteAsync($"CREATE DATABASE \"{database}\"" + (template is null ? "" : $" TEMPLATE \"{template}\""), ct);
                return;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 50)
            {
                await Task.Delay(200, ct);
            }
        }
    }

    public Task DropDatabaseAsync(string database, CancellationToken ct) => ExecuteAsync($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", ct);

    /// <summary>
    /// Runs <paramref name="script"/> with <c>psql</c> on <paramref name="database"/> (stopping at the first error) and
    /// answers its output; <c>\timing on</c> in the script makes psql print each statement's time.
    /// </summary>
    public async Task<string> PsqlAsync(string database, string script, CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(ServerConnectionString);
        var start = new ProcessStartInfo("psql", ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", builder.Host!, "-p", builder.Port.ToString(CultureInfo.InvariantCulture), "-U", builder.Username ?? "postgres", "-d", database])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (builder.Password is { } password)
        {
            start.Environment["PGPASSWORD"] = password;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.StandardInput.WriteAsync(script);
        process.StandardInput.Close();
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"psql failed ({process.ExitCode}): {await stderr}");
        }
        return await stdout;
    }

    /// <summary>The sum of psql's "Time: 12.345 ms" lines, in seconds.</summary>
    public static double TimedSeconds(string psqlOutput) =>
        TimingLine().Matches(psqlOutput).Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)) / 1000.0;

    /// <summary>The server's cumulative statement figures (pg_stat_statements) when the extension is loaded, else null.</summary>
    public async Task<string?> TopStatementsAsync(string database, int top, CancellationToken ct)
    {
        try
        {
            return await PsqlAsync(database, $"""
                CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
                SELECT round(total_exec_time) AS ms, calls, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 140) AS query
                FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                ORDER BY total_exec_time DESC LIMIT {top};
                """, ct);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_startedPort is not null)
        {
            await RunAsync("bash", [Path.Combine(AppProcess.RepositoryRoot(), ".ci", "postgres"), "stop"], new() { ["PGTEST_PORT"] = _startedPort }, CancellationToken.None);
        }
    }

    private async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false");
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<string> RunAsync(string file, string[] arguments, Dictionary<string, string> env, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (key, value) in env)
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await stderr}");
        }
        return await stdout;
    }

    [GeneratedRegex("BULKCAMPAIGNS_TEST_POSTGRES='([^']+)'")]
    private static partial Regex ExportLine();

    [GeneratedRegex(@"^Time: ([0-9.]+) ms", RegexOptions.Multiline)]
    private static partial Regex TimingLine();
}
