using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Data;

public static class DataSetup
{
    public const string DefaultConnectionString = "Data Source=data/bulkcampaigns.db";

    /// <summary>
    /// Registers the context factory on the SQLite file named by <c>ConnectionStrings:BulkCampaigns</c>.
    /// A relative file path is taken from the content root, so the app finds the same database
    /// wherever it is started from, and the file's folder is created.
    /// </summary>
    public static IServiceCollection AddAppData(this IServiceCollection services, IConfiguration configuration, string contentRoot)
    {
        var connectionString = ResolveConnectionString(configuration.GetConnectionString("BulkCampaigns") ?? DefaultConnectionString, contentRoot);
        services.AddSingleton(new DatabaseConnection(connectionString));
        services.AddSingleton<WriteGate>();
        services.AddHostedService<WalCheckpointer>();
        // Sign-in cookies and antiforgery tokens must survive a restart: keep their keys beside the database.
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        var keysFolder = Path.Combine(Path.GetDirectoryName(dataSource) is { Length: > 0 } folder ? folder : contentRoot, "keys");
        services.AddDataProtection().SetApplicationName("BulkCampaigns").PersistKeysToFileSystem(new DirectoryInfo(keysFolder));
        services.AddDbContextFactory<AppDbContext>(o => o
            .UseSqlite(connectionString, s => s.CommandTimeout(120))
            .AddInterceptors(SqlitePragmas.Interceptor));
        return services;
    }

    public static string ResolveConnectionString(string connectionString, string contentRoot)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (builder.DataSource != ":memory:" && !string.IsNullOrEmpty(builder.DataSource))
        {
            var path = Path.IsPathRooted(builder.DataSource) ? builder.DataSource : Path.GetFullPath(Path.Combine(contentRoot, builder.DataSource));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            builder.DataSource = path;
        }
        // Several readers and one writer at a time; wait for the writer rather than fail.
        builder.DefaultTimeout = 60;
        builder.Pooling = true;
        return builder.ToString();
    }

    /// <summary>Applies migrations and switches the file to WAL with synchronous=NORMAL.</summary>
    public static async Task MigrateAsync(IServiceProvider services, CancellationToken ct = default)
    {
        var factory = services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using var db = await factory.CreateDbContextAsync(ct);
        // A new file gets 16 KiB pages before its first table: a million-row send rewrites fewer, fuller pages.
        // (An existing file keeps its page size; changing it would take a VACUUM of the whole database.)
        await db.Database.OpenConnectionAsync(ct);
        await db.Database.ExecuteSqlRawAsync("PRAGMA page_size = 16384;", ct);
        await db.Database.MigrateAsync(ct);
        await db.Database.CloseConnectionAsync();
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
    }
}

/// <summary>The resolved connection string, for hot paths that use <see cref="SqliteConnection"/> directly.</summary>
public sealed record DatabaseConnection(string ConnectionString)
{
    /// <summary>Opens a connection with the pragmas every connection of this app uses.</summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken ct = default)
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await SqlitePragmas.ApplyAsync(connection, ct);
        return connection;
    }
}
