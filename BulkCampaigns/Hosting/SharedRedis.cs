using System.Security.Cryptography;
using System.Text;
using BulkCampaigns.Data;
using Npgsql;
using StackExchange.Redis;

namespace BulkCampaigns.Hosting;

/// <summary>
/// The Redis that the nodes of one installation share (<c>ConnectionStrings:Redis</c>): it carries the live updates
/// (SignalR's backplane), the pause/cancel wake-up and each sender's pace between nodes. Without it, all of that stays
/// in process, which is right for one node.
/// </summary>
public sealed class SharedRedis : IDisposable
{
    private readonly Lazy<ConnectionMultiplexer> _connection;

    public SharedRedis(string connectionString, string prefix)
    {
        Prefix = prefix;
        // Not aborting on a failed first connect: a node started before its Redis keeps trying (and /readyz says so)
        // instead of dying; calls made meanwhile fail and their callers decide (the pacer waits, never over-sends).
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        options.ClientName ??= "bulkcampaigns";
        _connection = new Lazy<ConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(options));
    }

    /// <summary>The connection string, or null when this installation runs without Redis.</summary>
    public static string? ConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Redis") is { Length: > 0 } redis ? redis : null;

    /// <summary>
    /// What every key and channel of this installation starts with: <c>Redis:Prefix</c>, else one derived from the
    /// database (server, port and name, or the SQLite file), so nodes on one database share their state and installations
    /// that happen to share a Redis (tests, staging beside production) never see each other's senders or signals.
    /// </summary>
    public static string PrefixFor(IConfiguration configuration, DatabaseConnection database)
    {
        if (configuration["Redis:Prefix"] is { Length: > 0 } configured)
        {
            return configured.EndsWith(':') ? configured : configured + ":";
        }
        string identity;
        if (database.IsPostgres)
        {
            var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString);
            identity = $"pg|{builder.Host}|{builder.Port}|{builder.Database}";
        }
        else
        {
            var source = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString).DataSource;
            identity = "sqlite|" + Path.GetFullPath(source);
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..12];
        return $"bulkcampaigns:{hash}:";
    }

    public string Prefix { get; }

    public IDatabase Database => _connection.Value.GetDatabase();

    public ISubscriber Subscriber => _connection.Value.GetSubscriber();

    public RedisKey Key(string name) => Prefix + name;

    public RedisChannel Channel(string name) => RedisChannel.Literal(Prefix + name);

    public void Dispose()
    {
        if (_connection.IsValueCreated)
        {
            _connection.Value.Dispose();
        }
    }
}
