using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace BulkCampaigns.Tests.Infrastructure;

/// <summary>
/// A TCP relay between an app and the test PostgreSQL server that a test can cut, as a network failure or a server
/// restart would: <see cref="Cut"/> drops every connection through it and turns new ones away until <see cref="Mend"/>.
/// The server itself, shared by the other tests, is not touched.
/// </summary>
public sealed class CuttableRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly List<TcpClient> _open = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private volatile bool _cut;

    private CuttableRelay(string host, int port)
    {
        _host = host;
        _port = port;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>A relay to the server of <paramref name="connectionString"/>; <see cref="ConnectionString"/> goes through it.</summary>
    public static CuttableRelay To(string connectionString)
    {
        var server = new NpgsqlConnectionStringBuilder(connectionString);
        var relay = new CuttableRelay(server.Host!, server.Port);
        server.Host = "127.0.0.1";
        server.Port = ((IPEndPoint)relay._listener.LocalEndpoint).Port;
        relay.ConnectionString = server.ConnectionString;
        return relay;
    }

    public string ConnectionString { get; private set; } = "";

    private int _turnedAway;

    /// <summary>How many connections were turned away while cut.</summary>
    public int TurnedAway => Volatile.Read(ref _turnedAway);

    public void Cut()
    {
        _cut = true;
        lock (_open)
        {
            foreach (var socket in _open)
            {
                socket.Dispose();
            }
            _open.Clear();
        }
    }

    public void Mend() => _cut = false;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            if (_cut)
            {
                Interlocked.Increment(ref _turnedAway);
                client.Dispose();
                continue;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var server = new TcpClient();
        try
        {
            await server.ConnectAsync(_host, _port, _stop.Token);
            lock (_open)
            {
                if (_cut)
                {
                    throw new IOException("cut");
                }
                _open.Add(client);
                _open.Add(server);
            }
            var up = client.GetStream().CopyToAsync(server.GetStream(), _stop.Token);
            var down = server.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
            await Task.WhenAny(up, down);
        }
        catch (Exception)
        {
            // A cut, or either side closing: both go.
        }
        finally
        {
            lock (_open)
            {
                _open.Remove(client);
                _open.Remove(server);
            }
            client.Dispose();
            server.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Cut();
        await _accepting;
        _stop.Dispose();
    }
}
