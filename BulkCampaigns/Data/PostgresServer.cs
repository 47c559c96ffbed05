using System.Net.Sockets;
using Npgsql;

namespace BulkCampaigns.Data;

/// <summary>
/// The first contact with the PostgreSQL server at start, made before EF or Hangfire touch it, so a wrong or
/// unreachable server is one line naming the host and the reason instead of a stack trace from deep inside.
/// </summary>
public static class PostgresServer
{
    /// <summary>"PostgreSQL at host:port, database db, user u": where the app was told to go.</summary>
    public static string Describe(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return $"PostgreSQL at {b.Host}:{b.Port}, database {b.Database ?? b.Username ?? "(default)"}, user {b.Username ?? Environment.UserName}";
    }

    /// <summary>
    /// Opens one connection. A server without the database creates it (like <c>createdb</c>; the user needs the
    /// CREATEDB right), so a fresh server needs nothing done by hand. Anything else is a <see cref="DatabaseUnavailableException"/>.
    /// </summary>
    public static async Task EnsureUsableAsync(string connectionString, CancellationToken ct = default)
    {
        var where = Describe(connectionString);
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(ct);
            return;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            // No such database yet: made below.
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or SocketException)
        {
            throw new DatabaseUnavailableException($"{where}: cannot connect: {Reason(ex)}", ex);
        }
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var maintenance = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };
        try
        {
            await using var connection = new NpgsqlConnection(maintenance.ConnectionString);
            await connection.OpenAsync(ct);
            await using var create = connection.CreateCommand();
            create.CommandText = $"CREATE DATABASE \"{target.Database!.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
            await create.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another node made it meanwhile.
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or SocketException)
        {
            throw new DatabaseUnavailableException($"{where}: the database does not exist and could not be created: {Reason(ex)}", ex);
        }
    }

    /// <summary>The words that say what went wrong: the server's message, else the network's.</summary>
    public static string Reason(Exception ex) => ex switch
    {
        PostgresException pg => $"{pg.MessageText} ({pg.SqlState})",
        NpgsqlException { InnerException: SocketException socket } => socket.Message,
        NpgsqlException { InnerException: TimeoutException } => "no answer within the connection timeout",
        NpgsqlException { InnerException: { } inner } when inner is not NpgsqlException => $"{ex.Message} {inner.Message}",
        _ => ex.Message,
    };
}
