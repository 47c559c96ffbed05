using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace BulkCampaigns.Data;

/// <summary>
/// Per-connection settings: WAL lets the dashboard read while an import writes, and with WAL
/// synchronous=NORMAL is still crash-safe for committed transactions (only the last ones may roll back on power loss).
/// </summary>
public static class SqlitePragmas
{
    private const string Sql = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=60000; PRAGMA foreign_keys=ON;";

    public static readonly DbConnectionInterceptor Interceptor = new PragmaInterceptor();

    public static async Task ApplyAsync(DbConnection connection, CancellationToken ct = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Sql;
        await command.ExecuteNonQueryAsync(ct);
    }

    private sealed class PragmaInterceptor : DbConnectionInterceptor
    {
        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
        {
            using var command = connection.CreateCommand();
            command.CommandText = Sql;
            command.ExecuteNonQuery();
        }

        public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default) =>
            ApplyAsync(connection, cancellationToken);
    }
}
