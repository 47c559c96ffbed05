using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace BulkCampaigns.Benchmarks;

/// <summary>
/// What the machine did during a measured run, to say what limited it from figures rather than a guess: the CPU time
/// of each named process (its live children and reaped ones included: a PostgreSQL server is its postmaster and its
/// backends), how busy the whole machine was (/proc/stat, so other users' load shows), and what the database's sessions
/// were doing (<c>pg_stat_activity</c> of the run's database sampled every 250 ms: on CPU, or the wait event).
/// Linux only; elsewhere the figures are zero.
/// </summary>
public sealed class RunObserver : IAsyncDisposable
{
    private const int TicksPerSecond = 100; // USER_HZ: 100 on every Linux the app runs on.
    private readonly IReadOnlyList<(string Name, int Pid)> _processes;
    private readonly Dictionary<string, long> _ticksBefore;
    private readonly long _machineBusyBefore;
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampler;
    private readonly Dictionary<string, long> _waits = new();
    private readonly Dictionary<string, long> _lockWaits = new();
    private int _samples;

    private RunObserver(IReadOnlyList<(string Name, int Pid)> processes, string? databaseConnectionString)
    {
        _processes = processes;
        _ticksBefore = processes.ToDictionary(p => p.Name, p => TreeTicks(p.Pid));
        _machineBusyBefore = MachineBusyTicks();
        _sampler = databaseConnectionString is null ? Task.CompletedTask : Task.Run(() => SampleAsync(databaseConnectionString, _stop.Token));
    }

    /// <summary>Starts observing <paramref name="processes"/> (name, PID; a PID of null is left out) and the sessions of the database of <paramref name="databaseConnectionString"/>.</summary>
    public static RunObserver Start(IEnumerable<(string Name, int? Pid)> processes, string? databaseConnectionString) =>
        new(processes.Where(p => p.Pid is not null).Select(p => (p.Name, p.Pid!.Value)).ToList(), databaseConnectionString);

    /// <summary>
    /// The PID of the PostgreSQL server (postmaster) behind <paramref name="connectionString"/> when it runs on this
    /// machine: the parent of the backend serving a connection. Null when that backend is not a local process.
    /// </summary>
    public static async Task<int?> PostgresServerPidAsync(string connectionString, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        var backend = (int)(await command.ExecuteScalarAsync(ct))!;
        try
        {
            if (File.ReadAllText($"/proc/{backend}/comm").Trim() != "postgres")
            {
                return null;
            }
            return Stat(backend) is { } stat ? int.Parse(stat[1], CultureInfo.InvariantCulture) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Stops observing and answers the figures since the start.</summary>
    public async Task<Observed> StopAsync()
    {
        var wall = _wall.Elapsed.TotalSeconds;
        var cpu = _processes.ToDictionary(p => p.Name, p => (TreeTicks(p.Pid) - _ticksBefore[p.Name]) / (double)TicksPerSecond);
        var machine = (MachineBusyTicks() - _machineBusyBefore) / (double)TicksPerSecond;
        await _stop.CancelAsync();
        await _sampler;
        var waits = _samples == 0
            ? new Dictionary<string, double>()
            : _waits.OrderByDescending(w => w.Value).ToDictionary(w => w.Key, w => w.Value / (double)_samples);
        var lockWaits = _samples == 0
            ? new Dictionary<string, double>()
            : _lockWaits.OrderByDescending(w => w.Value).Take(5).ToDictionary(w => w.Key, w => w.Value / (double)_samples);
        return new Observed(wall, Environment.ProcessorCount, machine, cpu, waits, lockWaits);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _sampler;
        }
        catch (Exception)
        {
            // Only a run that failed disposes without StopAsync; its error is the one to report.
        }
        _stop.Dispose();
    }

    private async Task SampleAsync(string connectionString, CancellationToken ct)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false;Application Name=bench-observer");
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("""
                SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU'), left(regexp_replace(query, '\s+', ' ', 'g'), 70), count(*)::int
                FROM pg_stat_activity
                WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid() GROUP BY 1, 2
                """, connection);
            while (!ct.IsCancellationRequested)
            {
                await using (var reader = await command.ExecuteReaderAsync(ct))
                {
                    while (await reader.ReadAsync(ct))
                    {
                        var key = reader.GetString(0);
                        var sessions = reader.GetInt32(2);
                        _waits[key] = _waits.GetValueOrDefault(key) + sessions;
                        if (key.StartsWith("Lock:", StringComparison.Ordinal))
                        {
                            var statement = key + " " + (reader.IsDBNull(1) ? "?" : reader.GetString(1));
                            _lockWaits[statement] = _lockWaits.GetValueOrDefault(statement) + sessions;
                        }
                    }
                }
                _samples++;
                await Task.Delay(250, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>CPU ticks of a process, its reaped children and its live children (one level: a postmaster's backends).</summary>
    private static long TreeTicks(int pid)
    {
        var total = Stat(pid) is { } own ? Ticks(own) : 0;
        foreach (var dir in SafeDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var child) && child != pid
                && Stat(child) is { } stat && stat[1] == pid.ToString(CultureInfo.InvariantCulture))
            {
                total += Ticks(stat);
            }
        }
        return total;
    }

    /// <summary>utime + stime + cutime + cstime (fields 14–17 of /proc/&lt;pid&gt;/stat).</summary>
    private static long Ticks(string[] stat) =>
        Enumerable.Range(11, 4).Sum(i => long.Parse(stat[i], CultureInfo.InvariantCulture));

    /// <summary>The fields of /proc/&lt;pid&gt;/stat after the command name: [0] state, [1] ppid, … [11] utime.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The machine's busy CPU ticks, all cores: the first line of /proc/stat without idle and iowait.</summary>
    private static long MachineBusyTicks()
    {
        try
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal (guest time is already in user).
            return fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static string[] SafeDirectories(string path)
    {
        try
        {
            return Directory.GetDirectories(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}

/// <summary>
/// The figures of one observed run: its wall time, the machine's cores and their busy seconds, the CPU seconds of
/// each named process, the database's active sessions by what they did (average sessions over the samples), and the
/// statements most waited on for a lock (by their first 70 characters).
/// </summary>
public sealed record Observed(double WallSeconds, int Cores, double MachineBusySeconds, IReadOnlyDictionary<string, double> CpuSeconds,
    IReadOnlyDictionary<string, double> DatabaseSessions, IReadOnlyDictionary<string, double> LockWaitsByStatement)
{
    public double MachineBusyShare => WallSeconds > 0 ? MachineBusySeconds / (WallSeconds * Cores) : 0;

    /// <summary>Cores used on average by each process, and by everything else on the machine.</summary>
    public string CpuLine()
    {
        var ours = CpuSeconds.Values.Sum();
        var parts = CpuSeconds.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key} {c.Value:0.0} s ({c.Value / WallSeconds:0.00} cores)"))
            .Append(string.Create(CultureInfo.InvariantCulture, $"rest of the machine {Math.Max(0, MachineBusySeconds - ours) / WallSeconds:0.00} cores"));
        return string.Create(CultureInfo.InvariantCulture, $"CPU over {WallSeconds:0.0} s: ") + string.Join(", ", parts)
            + string.Create(CultureInfo.InvariantCulture, $"; machine {MachineBusyShare:P0} busy of {Cores} cores");
    }

    /// <summary>The database's active sessions on average, by what they were doing, the top few.</summary>
    public string SessionsLine(int top = 4) => DatabaseSessions.Count == 0
        ? "database sessions: not sampled"
        : string.Create(CultureInfo.InvariantCulture, $"database sessions active on average {DatabaseSessions.Values.Sum():0.00}: ")
          + string.Join(", ", DatabaseSessions.Take(top).Select(w => string.Create(CultureInfo.InvariantCulture, $"{w.Key} {w.Value:0.00}")))
          + (LockWaitsByStatement.Count == 0 ? "" : "; waiting for a lock most: "
             + string.Join(" | ", LockWaitsByStatement.Take(2).Select(w => string.Create(CultureInfo.InvariantCulture, $"{w.Value:0.00} on {w.Key}"))));

    /// <summary>
    /// What limited the run, from the figures: the machine's CPU when its cores were nearly all busy (naming who used
    /// them), else the database's top wait when its sessions waited more than they ran, else neither plainly.
    /// </summary>
    public string LimitLine()
    {
        var waiting = DatabaseSessions.Where(w => w.Key != "on CPU").ToList();
        var running = DatabaseSessions.GetValueOrDefault("on CPU");
        var database = waiting.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
            $"; the database's sessions meanwhile {running:0.00} on CPU, {waiting.Sum(w => w.Value):0.00} waiting (most on {waiting[0].Key}, {waiting[0].Value:0.00})");
        var byCores = CpuSeconds.OrderByDescending(c => c.Value).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key} {c.Value / WallSeconds:0.00}")).ToList();
        var rest = Math.Max(0, MachineBusySeconds - CpuSeconds.Values.Sum()) / WallSeconds;
        if (MachineBusyShare >= 0.9)
        {
            return string.Create(CultureInfo.InvariantCulture, $"the machine's CPU: its {Cores} cores were {MachineBusyShare:P0} busy (cores: {string.Join(", ", byCores)}, everything else {rest:0.00})")
                + (rest > CpuSeconds.Values.Sum() / WallSeconds ? ", mostly by other processes: the machine was not quiet" : "") + database;
        }
        if (waiting.Count > 0 && waiting.Sum(w => w.Value) > running)
        {
            var topWait = waiting.First();
            return string.Create(CultureInfo.InvariantCulture, $"waits in the database more than CPU (machine {MachineBusyShare:P0} busy): its sessions waited on {topWait.Key} {topWait.Value:0.00} on average, against {running:0.00} on CPU");
        }
        return string.Create(CultureInfo.InvariantCulture, $"neither plainly: machine {MachineBusyShare:P0} busy (cores: {string.Join(", ", byCores)}), database sessions on CPU {running:0.00}, waiting {waiting.Sum(w => w.Value):0.00}");
    }
}
