using Npgsql;

namespace BulkCampaigns.Data;

/// <summary>
/// Whether an exception means the database went away (the server stopped or restarted, the network dropped, the
/// connection was terminated) rather than a statement being wrong. Such a failure says nothing about the data, and the
/// same work succeeds once the server answers again; any other failure is a bug or a real refusal.
/// SQLite is a file in this process: it has no such failure.
/// </summary>
public static class DatabaseLoss
{
    public static bool Is(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg:
                    // 08: connection exceptions; 57P01-57P03: terminated by an administrator, the server crashed or is
                    // starting/stopping; 53300: no connection slot free right now.
                    return pg.SqlState.StartsWith("08", StringComparison.Ordinal)
                        || pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                            or PostgresErrorCodes.TooManyConnections;
                case NpgsqlException npgsql:
                    // Not a server error: the socket or the connection itself failed (Npgsql calls these transient).
                    return npgsql.IsTransient;
                case AggregateException aggregate when aggregate.InnerExceptions.Count == 1:
                    return Is(aggregate.InnerExceptions[0]);
            }
        }
        return false;
    }

    /// <summary>The reason in a few words, for the one log line that says the database was lost.</summary>
    public static string Reason(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException pg)
            {
                return $"{pg.MessageText} ({pg.SqlState})";
            }
            if (e is NpgsqlException { InnerException: { } inner })
            {
                return inner.Message;
            }
        }
        return exception.Message;
    }
}
