using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace BulkCampaigns.Tests.Infrastructure;

/// <summary>
/// The real app on a fresh SQLite file of its own, with a bootstrap admin and API key.
/// <see cref="Settings"/> can override any configuration key before the app starts.
/// </summary>
public class AppFactory : WebApplicationFactory<Program>
{
    public const string AdminEmail = "admin@example.com";
    public const string AdminPassword = "correct-horse-42";
    public const string ApiKeySid = "SKtest00000000000000000000000000";
    public const string ApiKeySecret = "test-secret-value";

    public string DataFolder { get; } = Path.Combine(Path.GetTempPath(), "bulkcampaigns-tests", Guid.NewGuid().ToString("N"));
    public string DatabasePath => Path.Combine(DataFolder, "app.db");

    public Dictionary<string, string?> Settings { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        Directory.CreateDirectory(DataFolder);
        builder.UseEnvironment("Development");
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:BulkCampaigns"] = $"Data Source={DatabasePath}",
            ["Bootstrap:AdminEmail"] = AdminEmail,
            ["Bootstrap:AdminPassword"] = AdminPassword,
            ["Bootstrap:ApiKeySid"] = ApiKeySid,
            ["Bootstrap:ApiKeySecret"] = ApiKeySecret,
            ["Logging:LogLevel:Default"] = "Warning",
            // Tests page through lists fast; the rate limit has its own test with its own numbers.
            ["Api:RateLimit:PermitsPerSecond"] = "100000",
            ["Api:RateLimit:Burst"] = "100000",
        };
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
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(DataFolder, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open only leaves a temp folder behind.
            }
        }
    }
}
