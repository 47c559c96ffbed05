using Microsoft.Data.Sqlite;
using Npgsql;

namespace BulkCampaigns.Tests.Infrastructure;

/// <summary>The database a test's app runs on.</summary>
public enum TestProvider
{
    Sqlite,
    Postgres,
}

/// <summary>
/// A fresh database of its own for one app under test: a SQLite file in a temp folder, or a new database on the test
/// PostgreSQL server named by <c>BULKCAMPAIGNS_TEST_POSTGRES</c> (started by <c>bash .ci/postgres start</c>; <c>.ci/run</c>
/// does it). It is dropped when disposed. A test that asks for PostgreSQL where no server is configured or answering
/// fails with the reason; it never skips.
/// </summary>
public sealed class TestDatabase : IDisposable
{
    public const string ServerVariable = "BULKCAMPAIGNS_TEST_POSTGRES";

    /// <summary>
    /// <c>BULKCAMPAIGNS_TEST_PROVIDER</c> (Sqlite, the default, or Postgres): what <see cref="AppFactory"/> and
    /// <see cref="AppProcess"/> run on when a test does not choose; running the suite with it set to Postgres runs every
    /// database test on PostgreSQL.
    /// </summary>
    public static TestProvider DefaultProvider =>
        Environment.GetEnvironmentVariable("BULKCAMPAIGNS_TEST_PROVIDER") is { } name && name.Equals("Postgres", StringComparison.OrdinalIgnoreCase)
            ? TestProvider.Postgres
            : TestProvider.Sqlite;

    /// <summary>Both providers, for a theory that must hold on each: <c>[MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]</c>.</summary>
    public static TheoryData<TestProvider> Providers => [TestProvider.Sqlite, TestProvider.Postgres];

    private TestDatabase(TestProvider provider, string folder, string connectionString, string? postgresName)
    {
        Provider = provider;
        Folder = folder;
        ConnectionString = connectionString;
        PostgresName = postgresName;
    }

    public TestProvider Provider { get; }

    /// <summary>A temp folder of its own (the SQLite file, uploads), removed on dispose.</summary>
    public string Folder { get; }

    /// <summary>The SQLite file (meaningful on SQLite only).</summary>
    public string SqlitePath => Path.Combine(Folder, "app.db");

    public string ConnectionString { get; }

    /// <summary>The database's name on the server (PostgreSQL only).</summary>
    public string? PostgresName { get; }

    /// <summary>The configuration keys that point the app at this database.</summary>
    public IReadOnlyDictionary<string, string> Settings => Provider == TestProvider.Postgres
        ? new Dictionary<string, string>
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:BulkCampaigns"] = ConnectionString,
            ["Database:DataFolder"] = Folder,
        }
        : new Dictionary<string, string> { ["ConnectionStrings:BulkCampaigns"] = $"Data Source={SqlitePath}" };

    /// <summary>The test server's connection string, or a failed assertion saying how to start one.</summary>
    public static string PostgresServer()
    {
        var server = Environment.GetEnvironmentVariable(ServerVariable);
        Assert.False(string.IsNullOrWhiteSpace(server),
            $"This test runs on PostgreSQL and {ServerVariable} is not set. Start the throw-away test server with `eval \"$(bash .ci/postgres start)\"` (bash .ci/run does it), or point {ServerVariable} at a server where this user may create databases.");
        return server!;
    }

    public static TestDatabase Create(TestProvider provider)
    {
        var folder = Path.Combine(Path.GetTempPath(), "bulkcampaigns-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        if (provider == TestProvider.Sqlite)
        {
            return new TestDatabase(provider, folder, $"Data Source={Path.Combine(folder, "app.db")}", null);
        }
        var server = PostgresServer();
        var name = "bc_test_" + Guid.NewGuid().ToString("N")[..16];
        try
        {
            using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString);
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = $"CREATE DATABASE \"{name}\"";
            create.ExecuteNonQuery();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            Assert.Fail($"The test PostgreSQL server ({ServerVariable}={server}) can't be used: {ex.Message}. Start it with `eval \"$(bash .ci/postgres start)\"`.");
        }
        return new TestDatabase(provider, folder, new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString, name);
    }

    /// <summary>An open connection to this PostgreSQL database, for a test's own look at the tables.</summary>
    public NpgsqlConnection OpenPostgres()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    /// <summary>One number from the database (0 while the table is not there yet), beside the running app.</summary>
    public async Task<long> CountAsync(string sql)
    {
        if (Provider == TestProvider.Sqlite)
        {
            return await AppProcess.CountAsync(SqlitePath, sql);
        }
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        try
        {
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    public void Dispose()
    {
        if (PostgresName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            try
            {
                using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(PostgresServer()) { Database = "postgres", Pooling = false }.ConnectionString);
                connection.Open();
                using var drop = connection.CreateCommand();
                drop.CommandText = $"DROP DATABASE IF EXISTS \"{PostgresName}\" WITH (FORCE)";
                drop.ExecuteNonQuery();
            }
            catch (NpgsqlException)
            {
                // The server going away first (the run's end) leaves nothing to drop.
            }
        }
        else
        {
            SqliteConnection.ClearAllPools();
        }
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open only leaves a temp folder behind.
        }
    }
}
