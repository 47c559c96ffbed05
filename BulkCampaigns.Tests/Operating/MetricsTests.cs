using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using BulkCampaigns.Auth;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Operating;

public sealed class MetricsApp : AppFactory
{
    public const string Token = "scrape-token-for-tests";

    public MetricsApp() => Configure(Settings);

    public static void Configure(Dictionary<string, string?> settings)
    {
        UseExactSimulator(settings);
        settings["Metrics:ScrapeToken"] = Token;
    }
}

public sealed class PostgresMetricsApp : AppFactory
{
    public PostgresMetricsApp() : base(TestProvider.Postgres) => MetricsApp.Configure(Settings);
}

/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
[Collection(DispatchAppsCollection.Name)]
public sealed class MetricsTests(MetricsApp app) : MetricsTests<MetricsApp>(app);

/// <summary>On PostgreSQL, through the PostgreSQL engine store.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
[Collection(DispatchAppsCollection.Name)]
public sealed class MetricsTestsOnPostgres(PostgresMetricsApp app) : MetricsTests<PostgresMetricsApp>(app);

public abstract partial class MetricsTests<TApp>(TApp app) : IClassFixture<TApp>
    where TApp : AppFactory
{
    [Fact]
    public async Task Metrics_are_refused_without_credentials_with_a_wrong_token_or_with_an_API_key()
    {
        var anonymous = await app.CreateClient().GetAsync("/metrics");
        var wrong = await ScrapeAsync("not-the-token");
        var apiKey = await app.CreateApiClient().GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, apiKey.StatusCode);
        Assert.DoesNotContain("bulkcampaigns_", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signed_in_marketer_is_refused_and_a_signed_in_admin_may_read_them()
    {
        var marketer = await (await app.SignedInAsAsync(Roles.Marketer)).GetAsync("/metrics");
        var admin = await (await app.SignedInClientAsync(AppFactory.AdminEmail, AppFactory.AdminPassword)).GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.Forbidden, marketer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Contains("bulkcampaigns_messages", await admin.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_small_send_the_scrape_token_reads_message_send_latency_HTTP_and_runtime_metrics()
    {
        using var client = app.CreateApiClient();
        await CreateSenderAsync(client, "+14155550166", 1000);
        var id = await SendAsync(client, new
        {
            from = new { address = "+14155550166" },
            to = Enumerable.Range(0, 5).Select(i => new { address = Number(8400 + i) }).ToArray(),
            content = new { text = "Metered" },
        });
        await WaitForStatusAsync(client, id, "COMPLETED");

        var response = await ScrapeAsync(MetricsApp.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(Value(text, "bulkcampaigns_sends_total", "outcome=\"accepted\"") >= 5, text);
        Assert.True(Value(text, "bulkcampaigns_messages", "status=\"sent\"") + Value(text, "bulkcampaigns_messages", "status=\"delivered\"") >= 5, text);
        Assert.True(Value(text, "bulkcampaigns_provider_duration_seconds_count", "provider=\"simulated\"") >= 1, text);
        Assert.Contains("bulkcampaigns_batches_in_flight", text, StringComparison.Ordinal);
        Assert.Contains("bulkcampaigns_import_rows_total", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_", text, StringComparison.Ordinal);
    }

    private Task<HttpResponseMessage> ScrapeAsync(string token)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client.GetAsync("/metrics");
    }

    /// <summary>The sum of the samples of <paramref name="metric"/> whose labels include <paramref name="label"/>.</summary>
    private static double Value(string text, string metric, string label) =>
        Sample().Matches(text)
            .Where(m => m.Groups["name"].Value == metric && m.Groups["labels"].Value.Contains(label, StringComparison.Ordinal))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?<labels>[^}]*)\} (?<value>[0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
