using System.Data;
using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Data;

/// <summary>
/// SQLite takes one writer at a time. The hot writers (operation creation, claims, results, simulator records,
/// delivery reports) queue here in process instead of spinning in SQLite's busy handler, and they all write
/// through one long-lived connection: SQLite drops a connection's page cache whenever another connection has
/// written, so writers taking turns on pooled connections would re-read every page they touch.
/// Background writers (simulated delivery reports) go after the others, but get a turn at least every
/// <see cref="DefaultBackgroundTurn"/> so they never starve.
/// On PostgreSQL there is no gate: the server takes many writers at once (row locks, not a file lock), so queueing
/// them in one process would only slow them, and could not hold across nodes anyway. It is not registered there
/// (its users, <c>SqliteEngineStore</c> and <c>SqliteSegmentStore</c>, are made on SQLite only); one made by hand on
/// PostgreSQL refuses to open and says so.
/// </summary>
public sealed class WriteGate(DatabaseConnection database, TimeSpan? backgroundTurn = null) : IAsyncDisposable
{
    /// <summary>The writer's page cache (KiB): the pages of the batches in flight stay in memory.</summary>
    private const int CacheKiB = 32 * 1024;

    /// <summary>
    /// The writer never checkpoints the WAL itself (that would copy pages and fsync while everyone waits);
    /// <see cref="WalCheckpointer"/> does it beside it. This is only the backstop should that fall behind.
    /// </summary>
    private const int BackstopCheckpointPages = 64 * 1024;

    public static readonly TimeSpan DefaultBackgroundTurn = TimeSpan.FromSeconds(1);

    private readonly TimeSpan _backgroundTurn = backgroundTurn ?? DefaultBackgroundTurn;

    private readonly Lock _lock = new();
    private readonly LinkedList<TaskCompletionSource> _normal = new();
    private readonly LinkedList<TaskCompletionSource> _background = new();
    private bool _held;
    private long _lastBackgroundTurn = Stopwatch.GetTimestamp();
    private SqliteConnection? _connection;

    /// <summary>Waits for the writer's turn; the lease's connection is only for use until the lease is disposed.</summary>
    public Task<Lease> EnterAsync(CancellationToken ct = default) => EnterAsync(background: false, ct);

    /// <summary>Like <see cref="EnterAsync(CancellationToken)"/>, after every waiting foreground writer, yet at least once per background turn.</summary>
    public Task<Lease> EnterBackgroundAsync(CancellationToken ct = default) => EnterAsync(background: true, ct);

    private async Task<Lease> EnterAsync(bool background, CancellationToken ct)
    {
        if (database.IsPostgres)
        {
            throw new InvalidOperationException("The single-writer gate is SQLite's; on PostgreSQL writers go straight to the server (through the PostgreSQL engine store).");
        }
        using (WriterTrace.Step(background ? "gate.wait.background" : "gate.wait"))
        {
            await AcquireAsync(background, ct);
        }
        try
        {
            if (_connection is not { State: ConnectionState.Open })
            {
                if (_connection is not null)
                {
                    await _connection.DisposeAsync();
                }
                _connection = await database.OpenAsync(CancellationToken.None);
                await using var pragmas = _connection.CreateCommand();
                // After a big send the WAL file is cut back to 64 MB when it restarts, rather than keeping its largest size.
                pragmas.CommandText = $"PRAGMA cache_size = -{CacheKiB}; PRAGMA wal_autocheckpoint = {BackstopCheckpointPages}; PRAGMA journal_size_limit = {64 * 1024 * 1024};";
                await pragmas.ExecuteNonQueryAsync(CancellationToken.None);
            }
            return new Lease(this, _connection, WriterTrace.Step(background ? "gate.held.background" : "gate.held"));
        }
        catch
        {
            Release();
            throw;
        }
    }

    private async Task AcquireAsync(bool background, CancellationToken ct)
    {
        TaskCompletionSource turn;
        LinkedListNode<TaskCompletionSource> node;
        lock (_lock)
        {
            if (!_held)
            {
                _held = true;
                if (background)
                {
                    _lastBackgroundTurn = Stopwatch.GetTimestamp();
                }
                return;
            }
            turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            node = (background ? _background : _normal).AddLast(turn);
        }
        await using (ct.Register(() =>
        {
            lock (_lock)
            {
                if (node.List is null)
                {
                    return; // already given the turn
                }
                node.List.Remove(node);
            }
            turn.TrySetCanceled(ct);
        }))
        {
            await turn.Task;
        }
    }

    private void Release()
    {
        TaskCompletionSource next;
        lock (_lock)
        {
            var backgroundTurn = _background.Count > 0 && (_normal.Count == 0 || Stopwatch.GetElapsedTime(_lastBackgroundTurn) >= _backgroundTurn);
            var queue = backgroundTurn ? _background : _normal;
            if (queue.First is not { } first)
            {
                _held = false;
                return;
            }
            queue.RemoveFirst();
            if (backgroundTurn)
            {
                _lastBackgroundTurn = Stopwatch.GetTimestamp();
            }
            next = first.Value;
        }
        next.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        var acquired = AcquireAsync(background: false, CancellationToken.None);
        await Task.WhenAny(acquired, Task.Delay(TimeSpan.FromSeconds(10)));
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }
    }

    public sealed class Lease(WriteGate gate, SqliteConnection connection, WriterTrace.Span held = default) : IDisposable
    {
        private int _released;

        public SqliteConnection Connection { get; } = connection;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                held.Dispose();
                gate.Release();
            }
        }
    }
}
