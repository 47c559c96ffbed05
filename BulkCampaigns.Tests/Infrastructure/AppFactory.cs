using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace BulkCampaigns.Tests.Infrastructure;

/// <summary>
/// The real app on a fresh database of its own (a SQLite file, or a new database on the test PostgreSQL server,
/// dropped after: see <see cref="TestDatabase"/>), with a bootstrap admin and API key.
/// <see cref="Settings"/> can override any configuration key before the app starts.
/// A test class chooses PostgreSQL with <see cref="PostgresAppFactory"/> (or <c>new AppFactory(TestProvider.Postgres)</c>);
/// otherwise the provider is <see cref="TestDatabase.DefaultProvider"/> (SQLite unless <c>BULKCAMPAIGNS_TEST_PROVIDER</c> says Postgres).
/// </summary>
public class AppFactory : WebApplicationFactory<Program>
{
    // One public constructor: xunit builds class fixtures through it.
    public AppFactory() : this(TestDatabase.DefaultProvider)
    {
    }

    protected AppFactory(TestProvider provider)
    {
        Database = TestDatabase.Create(provider);
    }

    public const string AdminEmail = "admin@example.com";
    public const string AdminPassword = "correct-horse-42";
    public const string ApiKeySid = "SKtest00000000000000000000000000";
    public const string ApiKeySecret = "test-secret-value";

    /// <summary>This app's own database, made when the factory is.</summary>
    public TestDatabase Database { get; }

    public TestProvider Provider => Database.Provider;

    public string DataFolder => Database.Folder;

    /// <summary>The SQLite file (SQLite only).</summary>
    public string DatabasePath => Database.SqlitePath;

    public Dictionary<string, string?> Settings { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        var settings = new Dictionary<string, string?>
        {
            ["Bootstrap:AdminEmail"] = AdminEmail,
            ["Bootstrap:AdminPassword"] = AdminPassword,
            ["Bootstrap:ApiKeySid"] = ApiKeySid,
            ["Bootstrap:ApiKeySecret"] = ApiKeySecret,
            ["Logging:LogLevel:Default"] = "Warning",
            // Tests page through lists fast; the rate limit has its own test with its own numbers.
            ["Api:RateLimit:PermitsPerSecond"] = "100000",
            ["Api:RateLimit:Burst"] = "100000",
        };
        foreach (var (key, value) in Database.Settings)
        {
            settings[key] = value;
        }
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>An HTTP client that signs every request with the bootstrap API key.</summary>
    public HttpClient CreateApiClient(string sid = ApiKeySid, string secret = ApiKeySecret)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = ClientOptions.BaseAddress });
        client.DefaultRequestHeaders.Authorization = BasicAuth(sid, secret);
        return client;
    }

    public static AuthenticationHeaderValue BasicAuth(string sid, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{sid}:{secret}")));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Database.Dispose();
        }
    }
}

/// <summary>The app on PostgreSQL: a test class takes it as its fixture to run on the test server.</summary>
public class PostgresAppFactory() : AppFactory(TestProvider.Postgres);

/// <summary>The app on SQLite whatever <c>BULKCAMPAIGNS_TEST_PROVIDER</c> says: for what only SQLite has (its file, its upgrades).</summary>
public class SqliteAppFactory() : AppFactory(TestProvider.Sqlite);
