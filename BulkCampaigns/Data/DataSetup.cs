using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace BulkCampaigns.Data;

/// <summary>Which database the app runs on (<c>Database:Provider</c>).</summary>
public enum DatabaseProvider
{
    /// <summary>The embedded default: one file, nothing to install.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server, named by an Npgsql connection string.</summary>
    Postgres,
}

public static class DataSetup
{
    public const string DefaultConnectionString = "Data Source=data/bulkcampaigns.db";

    /// <summary>
    /// The provider the settings name, or a plain sentence saying what is wrong with them (checked before anything
    /// is built, so a typo stops the start with one line rather than a stack trace).
    /// </summary>
    public static (DatabaseProvider Provider, string? Problem) ReadProvider(IConfiguration configuration)
    {
        var name = configuration["Database:Provider"];
        if (string.IsNullOrWhiteSpace(name) || name.Equals("Sqlite", StringComparison.OrdinalIgnoreCase))
        {
            return (DatabaseProvider.Sqlite, null);
        }
        if (!name.Equals("Postgres", StringComparison.OrdinalIgnoreCase) && !name.Equals("PostgreSQL", StringComparison.OrdinalIgnoreCase))
        {
            return (DatabaseProvider.Sqlite, $"Database:Provider is '{name}'; use Sqlite (the default) or Postgres.");
        }
        var connectionString = configuration.GetConnectionString("BulkCampaigns");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return (DatabaseProvider.Postgres, "Database:Provider is Postgres but ConnectionStrings:BulkCampaigns is empty; set it to an Npgsql connection string, e.g. Host=localhost;Database=bulkcampaigns;Username=bulkcampaigns;Password=….");
        }
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (string.IsNullOrEmpty(builder.Host))
            {
                return (DatabaseProvider.Postgres, "ConnectionStrings:BulkCampaigns names no Host; with Database:Provider=Postgres it is an Npgsql connection string, e.g. Host=localhost;Database=bulkcampaigns;Username=bulkcampaigns;Password=….");
            }
        }
        catch (ArgumentException ex)
        {
            return (DatabaseProvider.Postgres, $"ConnectionStrings:BulkCampaigns is not a PostgreSQL connection string ({ex.Message}); with Database:Provider=Postgres write it as Host=…;Database=…;Username=…;Password=….");
        }
        return (DatabaseProvider.Postgres, null);
    }

    /// <summary>
    /// Registers the database named by <c>Database:Provider</c> and <c>ConnectionStrings:BulkCampaigns</c>: the
    /// context factory every feature uses, the connection the hot paths use, and the data-protection key ring
    /// (kept in the database on both providers, so sign-in cookies and live-update tokens outlive a restart and
    /// hold on every node). Call <see cref="ReadProvider"/> first: this assumes the settings are valid.
    /// </summary>
    public static IServiceCollection AddAppData(this IServiceCollection services, IConfiguration configuration, string contentRoot)
    {
        var (provider, _) = ReadProvider(configuration);
        var dataProtection = services.AddDataProtection().SetApplicationName("BulkCampaigns");
        if (provider == DatabaseProvider.Postgres)
        {
            var connectionString = configuration.GetConnectionString("BulkCampaigns")!;
            var folder = configuration["Database:DataFolder"] is { Length: > 0 } configured ? configured : "data";
            folder = Path.IsPathRooted(folder) ? folder : Path.GetFullPath(Path.Combine(contentRoot, folder));
            Directory.CreateDirectory(folder);
            services.AddSingleton(new DatabaseConnection(connectionString) { Provider = DatabaseProvider.Postgres, DataFolder = folder });
            // One pool for EF and for raw Npgsql, disposed with the app.
            services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());
            services.AddDbContextFactory<PostgresAppDbContext>((sp, o) => o
                .UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>(), n => n.CommandTimeout(120)));
            services.AddSingleton<IDbContextFactory<AppDbContext>>(sp => new BaseFactory<PostgresAppDbContext>(sp.GetRequiredService<IDbContextFactory<PostgresAppDbContext>>()));
            services.AddScoped<AppDbContext>(sp => sp.GetRequiredService<PostgresAppDbContext>());
            // No WriteGate: PostgreSQL takes many writers at once, and its only users (the SQLite engine and segment
            // stores) are made on SQLite only, so nothing here may ask for it.
            dataProtection.PersistKeysToDbContext<PostgresAppDbContext>();
            return services;
        }
        var sqlite = ResolveConnectionString(configuration.GetConnectionString("BulkCampaigns") ?? DefaultConnectionString, contentRoot);
        var dataSource = new SqliteConnectionStringBuilder(sqlite).DataSource;
        var dataFolder = Path.GetDirectoryName(dataSource) is { Length: > 0 } parent ? parent : contentRoot;
        services.AddSingleton(new DatabaseConnection(sqlite) { DataFolder = dataFolder });
        services.AddSingleton<WriteGate>();
        services.AddHostedService<WalCheckpointer>();
        dataProtection.PersistKeysToDbContext<AppDbContext>();
        services.AddDbContextFactory<AppDbContext>(o => o
            .UseSqlite(sqlite, s => s.CommandTimeout(120))
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

    /// <summary>
    /// Applies the provider's migrations. On SQLite it also switches the file to WAL with synchronous=NORMAL; on
    /// PostgreSQL it first checks the server answers (creating the database when the server has none of that name)
    /// and throws <see cref="DatabaseUnavailableException"/> with one plain line when it can't be used.
    /// </summary>
    public static async Task MigrateAsync(IServiceProvider services, CancellationToken ct = default)
    {
        var database = services.GetRequiredService<DatabaseConnection>();
        var factory = services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        if (database.Provider == DatabaseProvider.Postgres)
        {
            await PostgresServer.EnsureUsableAsync(database.ConnectionString, ct);
            await using var pg = await factory.CreateDbContextAsync(ct);
            try
            {
                // Made first, so a fresh database's first start doesn't log EF's failed read of the missing history table as an error.
                await pg.Database.ExecuteSqlRawAsync(pg.GetService<IHistoryRepository>().GetCreateIfNotExistsScript(), ct);
                await pg.Database.MigrateAsync(ct);
            }
            catch (PostgresException ex)
            {
                throw new DatabaseUnavailableException($"{PostgresServer.Describe(database.ConnectionString)}: migrating the database failed: {ex.MessageText} ({ex.SqlState})", ex);
            }
            return;
        }
        await using var db = await factory.CreateDbContextAsync(ct);
        // A new file gets 16 KiB pages before its first table: a million-row send rewrites fewer, fuller pages.
        // (An existing file keeps its page size; changing it would take a VACUUM of the whole database.)
        await db.Database.OpenConnectionAsync(ct);
        await db.Database.ExecuteSqlRawAsync("PRAGMA page_size = 16384;", ct);
        await db.Database.MigrateAsync(ct);
        await db.Database.CloseConnectionAsync();
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
    }

    /// <summary>Hands out the derived context as the <see cref="AppDbContext"/> every feature asks for.</summary>
    private sealed class BaseFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<AppDbContext>
        where TContext : AppDbContext
    {
        public AppDbContext CreateDbContext() => inner.CreateDbContext();

        public async Task<AppDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
            await inner.CreateDbContextAsync(cancellationToken);
    }
}

/// <summary>
/// The database settings the hot paths read: the resolved connection string, the provider, and the folder for files
/// kept beside the data (uploads waiting for their import).
/// </summary>
public sealed record DatabaseConnection(string ConnectionString)
{
    public DatabaseProvider Provider { get; init; } = DatabaseProvider.Sqlite;

    /// <summary>On SQLite the database file's folder; on PostgreSQL <c>Database:DataFolder</c> (default <c>data</c>).</summary>
    public string DataFolder { get; init; } = Path.GetTempPath();

    public bool IsPostgres => Provider == DatabaseProvider.Postgres;

    /// <summary>A closed connection of the provider in use, for the few provider-neutral statements outside EF.</summary>
    public System.Data.Common.DbConnection CreateConnection() =>
        IsPostgres ? new NpgsqlConnection(ConnectionString) : new SqliteConnection(ConnectionString);

    /// <summary>An open connection of the provider in use (on SQLite with the app's pragmas), for statements outside EF.</summary>
    public async Task<System.Data.Common.DbConnection> OpenAnyAsync(CancellationToken ct = default)
    {
        if (!IsPostgres)
        {
            return await OpenAsync(ct);
        }
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        return connection;
    }

    /// <summary>Opens a SQLite connection with the pragmas every connection of this app uses (SQLite only: the engine's SQLite store).</summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken ct = default)
    {
        if (IsPostgres)
        {
            throw new InvalidOperationException("This code path is SQLite's (it opens the database file directly); on PostgreSQL it goes through the PostgreSQL engine store.");
        }
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await SqlitePragmas.ApplyAsync(connection, ct);
        return connection;
    }
}

/// <summary>The database can't be used at start; its message is the one line the app prints before it exits.</summary>
public sealed class DatabaseUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
