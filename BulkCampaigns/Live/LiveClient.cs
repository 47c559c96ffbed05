using System.Collections.Concurrent;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.SignalR.Client;

namespace BulkCampaigns.Live;

/// <summary>What a page uses to hear that something it shows has changed.</summary>
public interface ILiveUpdates
{
    /// <summary>
    /// Calls <paramref name="onChanged"/> when <paramref name="topic"/> changes: at most 4 times a second, and
    /// always once after the last change; also after a reconnect, since changes may have been missed.
    /// Dispose the result to stop.
    /// </summary>
    Task<IAsyncDisposable> WatchAsync(string topic, Func<Task> onChanged);
}

/// <summary>
/// One hub connection per circuit, authenticated with a live token of the circuit's user. When the hub
/// cannot be reached the watchers fall back to looking again every two seconds, so a page stays current.
/// </summary>
public sealed class LiveClient(AuthenticationStateProvider authState, LiveTokens tokens, LiveEndpoint endpoint, ILogger<LiveClient> logger)
    : ILiveUpdates, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<Watcher, byte> _watchers = new();
    private HubConnection? _connection;

    public async Task<IAsyncDisposable> WatchAsync(string topic, Func<Task> onChanged)
    {
        var watcher = new Watcher(this, topic, onChanged, logger);
        _watchers.TryAdd(watcher, 0);
        try
        {
            var connection = await ConnectAsync();
            if (connection is null)
            {
                watcher.StartPolling();
            }
            else
            {
                await connection.InvokeAsync(nameof(LiveHub.Watch), topic);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TimeoutException or Microsoft.AspNetCore.SignalR.HubException)
        {
            logger.LogWarning(ex, "Live updates unavailable; {Topic} is refreshed every 2 s instead", topic);
            watcher.StartPolling();
        }
        return watcher;
    }

    private async Task<HubConnection?> ConnectAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_connection is not null)
            {
                return _connection;
            }
            if (endpoint.HubUrl is not { } url)
            {
                return null;
            }
            var user = (await authState.GetAuthenticationStateAsync()).User;
            var token = tokens.Issue(user);
            var connection = new HubConnectionBuilder()
                .WithUrl(url, o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
                .WithAutomaticReconnect()
                .Build();
            connection.On<string>(LiveHub.ChangedMethod, topic =>
            {
                foreach (var watcher in _watchers.Keys)
                {
                    if (watcher.Topic == topic)
                    {
                        watcher.Signal();
                    }
                }
            });
            connection.Reconnected += async _ =>
            {
                foreach (var watcher in _watchers.Keys)
                {
                    await connection.InvokeAsync(nameof(LiveHub.Watch), watcher.Topic);
                    watcher.Signal();
                }
            };
            connection.Closed += _ =>
            {
                foreach (var watcher in _watchers.Keys)
                {
                    watcher.StartPolling();
                }
                return Task.CompletedTask;
            };
            await connection.StartAsync();
            _connection = connection;
            return connection;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task StopAsync(Watcher watcher)
    {
        _watchers.TryRemove(watcher, out _);
        if (_connection is { State: HubConnectionState.Connected } connection && !_watchers.Keys.Any(w => w.Topic == watcher.Topic))
        {
            try
            {
                await connection.InvokeAsync(nameof(LiveHub.Unwatch), watcher.Topic);
            }
            catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or OperationCanceledException)
            {
                // The connection went away meanwhile (or is closing: its pending calls are canceled); nothing to unwatch.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var watcher in _watchers.Keys)
        {
            watcher.StopPolling();
        }
        _watchers.Clear();
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        _gate.Dispose();
    }

    /// <summary>
    /// One page's interest in one topic, with the throttle that keeps it to 4 refreshes a second. Refreshes run one
    /// at a time and the next starts 300 ms after the previous one ended: a refresh slowed by a busy database or CPU
    /// is not overlapped by the next (two overlapping refreshes render moments apart, and pile up more reads), so a
    /// page's renders leave the server at least 300 ms apart. 300, not 250: renders reach the browser with some
    /// jitter, and at exactly 250 ms apart a late one and a prompt one made 5 in a second (dashboards benchmark).
    /// </summary>
    private sealed class Watcher(LiveClient owner, string topic, Func<Task> onChanged, ILogger logger) : IAsyncDisposable
    {
        public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(300);
        private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);
        private readonly Lock _lock = new();
        private bool _changed;
        private bool _running;
        private long _lastEnd;
        private Timer? _poll;
        private bool _disposed;

        public string Topic { get; } = topic;

        public void Signal()
        {
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }
                _changed = true;
                if (_running)
                {
                    return;
                }
                _running = true;
            }
            _ = RunAsync();
        }

        private async Task RunAsync()
        {
            while (true)
            {
                var wait = MinInterval - System.Diagnostics.Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastEnd));
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }
                lock (_lock)
                {
                    if (_disposed || !_changed)
                    {
                        _running = false;
                        return;
                    }
                    // A change arriving from here on runs one more refresh after this one, so the last change is never missed.
                    _changed = false;
                }
                try
                {
                    await onChanged();
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Refreshing after a change of {Topic} failed", Topic);
                }
                Interlocked.Exchange(ref _lastEnd, System.Diagnostics.Stopwatch.GetTimestamp());
            }
        }

        public void StartPolling()
        {
            lock (_lock)
            {
                _poll ??= new Timer(_ => Signal(), null, PollInterval, PollInterval);
            }
        }

        public void StopPolling()
        {
            lock (_lock)
            {
                _disposed = true;
                _poll?.Dispose();
                _poll = null;
            }
        }

        public async ValueTask DisposeAsync()
        {
            StopPolling();
            await owner.StopAsync(this);
        }
    }
}

/// <summary>
/// Where this node's own hub answers, for the circuit's server-side connection: <c>Live:HubUrl</c> when set,
/// else the first address Kestrel listens on (a wildcard host taken as loopback).
/// </summary>
public sealed class LiveEndpoint(IServer server, IConfiguration configuration)
{
    public Uri? HubUrl
    {
        get
        {
            if (configuration["Live:HubUrl"] is { Length: > 0 } configured)
            {
                return new Uri(configured);
            }
            var address = server.Features.Get<IServerAddressesFeature>()?.Addresses
                .OrderBy(a => a.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? 1 : 0)
                .FirstOrDefault();
            if (address is null)
            {
                return null;
            }
            var normalized = address.Replace("://+", "://127.0.0.1", StringComparison.Ordinal)
                .Replace("://*", "://127.0.0.1", StringComparison.Ordinal)
                .Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal)
                .Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal);
            return Uri.TryCreate(normalized.TrimEnd('/') + LiveHub.Path, UriKind.Absolute, out var url) ? url : null;
        }
    }
}
