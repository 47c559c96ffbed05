using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace BulkCampaigns.Tests.Api;

/// <summary>
/// The app as it runs for real: the Production environment on Kestrel, where a body the framework can't bind used to
/// get an empty 400 (Development throws and hid it).
/// </summary>
public sealed class ProductionApp : AppFactory, IAsyncLifetime
{
    public const int MaxScheduleDays = 30;

    /// <summary>Real ids for the endpoints that take one, so a refused body is the only thing wrong with a request.</summary>
    public Dictionary<string, string> Ids { get; } = new();

    public ProductionApp()
    {
        Settings["Limits:MaxScheduleDays"] = MaxScheduleDays.ToString(System.Globalization.CultureInfo.InvariantCulture);
        UseKestrel(0);
        StartServer();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseEnvironment("Production");
    }

    public async Task InitializeAsync()
    {
        using var client = CreateApiClient();
        async Task<string> CreateAsync(string path, object body)
        {
            var response = await client.PostAsJsonAsync(path, body);
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }
        Ids["{content}"] = await CreateAsync("/v1/Content", new { name = "Kept", content = new { text = "Hi" } });
        Ids["{sender}"] = await CreateAsync("/v1/Senders", new { address = "+15551238801", channel = "SMS", mps = 5 });
        Ids["{group}"] = await CreateAsync("/v1/Groups", new { name = "Kept" });
    }

    Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;
}

/// <summary>Every refused request, on every JSON endpoint, answers in the error format {"status","code","message","errors"}.</summary>
public sealed class ApiErrorFormatTests : IClassFixture<ProductionApp>
{
    private const string From = "+15551238800";
    private readonly ProductionApp _app;
    private readonly HttpClient _client;

    public ApiErrorFormatTests(ProductionApp app)
    {
        _app = app;
        _client = app.CreateApiClient();
    }

    public static readonly string[][] JsonEndpoints =
    [
        ["POST", "/v1/Content"],
        ["PUT", "/v1/Content/{content}"],
        ["POST", "/v1/Content/Preview"],
        ["POST", "/v1/Senders"],
        ["PATCH", "/v1/Senders/{sender}"],
        ["POST", "/v1/Groups"],
        ["PATCH", "/v1/Groups/{group}"],
        ["POST", "/v1/Suppressions"],
        ["POST", "/v1/Messages"],
    ];

    private static readonly Dictionary<string, byte[]> BadBodies = new()
    {
        ["malformed JSON"] = Encoding.UTF8.GetBytes("{\"name\": \"a\",\n \"mps\": }"),
        ["values of the wrong type"] = Encoding.UTF8.GetBytes("{\"name\": {\"x\": 1}, \"address\": [1], \"content\": 5, \"mps\": \"x\", \"from\": 5}"),
        ["nesting 200 levels deep"] = Encoding.UTF8.GetBytes("{\"name\": \"a\", \"deep\": " + new string('[', 200) + new string(']', 200) + "}"),
        // 0xC3 starts a two-byte UTF-8 sequence that the quote after it cuts short: in every field an endpoint reads.
        ["invalid UTF-8 in a string"] = [.. Encoding.UTF8.GetBytes("{\"name\": \"caf"), 0xC3, .. Encoding.UTF8.GetBytes("\", \"address\": \"+1555"), 0xC3,
            .. Encoding.UTF8.GetBytes("\", \"content\": {\"text\": \"a"), 0xC3, .. Encoding.UTF8.GetBytes("\"}, \"mps\": \"x"), 0xC3, .. Encoding.UTF8.GetBytes("\"}")],
        ["duplicate keys"] = Encoding.UTF8.GetBytes("{\"name\": \"a\", \"name\": \"b\", \"address\": \"+15551230001\", \"address\": \"+15551230002\", \"mps\": 1, \"mps\": 2, \"content\": {\"text\": \"a\"}, \"content\": {\"text\": \"b\"}, \"from\": {}, \"from\": {}}"),
        ["an empty body"] = [],
    };

    public static TheoryData<string, string, string> EndpointsAndBadBodies()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var endpoint in JsonEndpoints)
        {
            foreach (var bad in BadBodies.Keys)
            {
                data.Add(endpoint[0], endpoint[1], bad);
            }
        }
        return data;
    }

    public static TheoryData<string, string> Endpoints()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in JsonEndpoints)
        {
            data.Add(endpoint[0], endpoint[1]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EndpointsAndBadBodies))]
    public async Task A_body_that_cannot_be_read_is_a_400_in_the_error_format_on_every_JSON_endpoint(string method, string path, string bad)
    {
        var content = new ByteArrayContent(BadBodies[bad]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };

        var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), Resolve(path)) { Content = content });

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, $"{bad} on {method} {path}");
        // PATCH /v1/Senders reads mps as raw JSON: there the broken string is refused as not being a number.
        if (ExpectedWords.TryGetValue(bad, out var words) && !(bad.StartsWith("invalid UTF-8", StringComparison.Ordinal) && path.StartsWith("/v1/Senders/", StringComparison.Ordinal)))
        {
            Assert.Contains(words, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    /// <summary>What the message says for each unreadable body, in plain words.</summary>
    private static readonly Dictionary<string, string> ExpectedWords = new()
    {
        ["malformed JSON"] = "not valid JSON",
        ["nesting 200 levels deep"] = "nested too deeply",
        ["invalid UTF-8 in a string"] = "UTF-8",
        ["duplicate keys"] = "twice",
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_form_posted_to_a_JSON_endpoint_is_a_415_in_the_error_format(string method, string path)
    {
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "a", ["address"] = "+15551230001" });

        var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), Resolve(path)) { Content = form });

        var error = await AssertErrorAsync(response, HttpStatusCode.UnsupportedMediaType, $"a form on {method} {path}");
        Assert.Contains("application/json", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_known_path_asked_with_a_method_it_does_not_take_is_a_405_naming_the_ones_it_does()
    {
        var response = await _client.DeleteAsync("/v1/Messages");

        var error = await AssertErrorAsync(response, HttpStatusCode.MethodNotAllowed, "DELETE /v1/Messages");
        Assert.Contains("GET", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("POST", response.Content.Headers.Allow);
    }

    [Fact]
    public async Task Invalid_UTF8_in_a_string_of_a_send_request_is_a_400_not_a_500_and_nothing_is_made()
    {
        await EnsureSenderAsync();
        var before = await OperationCountAsync();
        byte[] body = [.. Encoding.UTF8.GetBytes($"{{\"from\": {{\"address\": \"{From}\"}}, \"to\": [{{\"address\": \"+18015550100\", \"variables\": {{\"name\": \"Jo"), 0xFF, 0xFE,
            .. Encoding.UTF8.GetBytes("\"}}], \"content\": {\"text\": \"Hi {{name}}\"}}")];
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await _client.PostAsync("/v1/Messages", content);

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid UTF-8");
        Assert.Contains("UTF-8", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await OperationCountAsync());
    }

    [Theory]
    [InlineData("/v1/Groups/grp_%01")]
    [InlineData("/v1/Groups/grp_%FF%FE")]
    [InlineData("/v1/Groups/grp_%E2%80%AE")]
    public async Task A_group_id_holding_control_or_broken_bytes_is_a_404_in_the_error_format(string path)
    {
        var response = await _client.GetAsync(path);

        await AssertErrorAsync(response, HttpStatusCode.NotFound, path);
    }

    [Fact]
    public async Task A_send_with_a_key_given_twice_is_refused_and_nothing_is_made()
    {
        await EnsureSenderAsync();
        var before = await OperationCountAsync();
        var body = $"{{\"from\": {{\"address\": \"{From}\"}}, \"to\": [{{\"address\": \"+18015550100\"}}], \"content\": {{\"text\": \"Hello\", \"text\": \"Goodbye\"}}}}";

        var response = await _client.PostAsync("/v1/Messages", new StringContent(body, Encoding.UTF8, "application/json"));

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "duplicate text");
        Assert.Contains("twice", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await OperationCountAsync());
    }

    [Fact]
    public async Task A_sendAt_past_the_schedule_horizon_is_refused_naming_the_limit_and_one_within_it_is_accepted()
    {
        await EnsureSenderAsync();
        var before = await OperationCountAsync();

        foreach (var far in new[] { "9999-12-31T23:59:59Z", DateTimeOffset.UtcNow.AddDays(ProductionApp.MaxScheduleDays + 1).ToString("yyyy-MM-ddTHH:mm:ssZ") })
        {
            var response = await SendAtAsync(far);
            var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, far);
            var problem = error.GetProperty("errors").EnumerateArray().Single(e => e.GetProperty("field").GetString() == "schedule.sendAt");
            Assert.Contains($"{ProductionApp.MaxScheduleDays} days", problem.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Contains("Limits:MaxScheduleDays", problem.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal(before, await OperationCountAsync());

        var within = await SendAtAsync(DateTimeOffset.UtcNow.AddDays(ProductionApp.MaxScheduleDays - 1).ToString("yyyy-MM-ddTHH:mm:ssZ"));
        Assert.True(within.StatusCode == HttpStatusCode.Accepted, await within.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_sendAt_an_hour_in_the_past_is_refused()
    {
        await EnsureSenderAsync();

        var response = await SendAtAsync(DateTimeOffset.UtcNow.AddHours(-1).ToString("yyyy-MM-ddTHH:mm:ssZ"));

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "past");
        Assert.Contains(error.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == "schedule.sendAt");
    }

    private string Resolve(string path) => _app.Ids.Aggregate(path, (p, id) => p.Replace(id.Key, id.Value, StringComparison.Ordinal));

    private Task<HttpResponseMessage> SendAtAsync(string sendAt) =>
        _client.PostAsync("/v1/Messages", new StringContent(
            $"{{\"from\": {{\"address\": \"{From}\"}}, \"to\": [{{\"address\": \"+18015550100\"}}], \"content\": {{\"text\": \"Hi\"}}, \"schedule\": {{\"sendAt\": [\"{sendAt}\"]}}}}",
            Encoding.UTF8, "application/json"));

    private static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{what}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)expected, error.GetProperty("status").GetInt32());
        Assert.True(error.GetProperty("code").GetInt32() > 20000, text);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()), text);
        Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
        return error;
    }

    private async Task EnsureSenderAsync()
    {
        var response = await _client.PostAsJsonAsync("/v1/Senders", new { address = From, channel = "SMS", mps = 10 });
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict or HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
    }

    private Task<long> OperationCountAsync() => _app.Database.CountAsync("""SELECT COUNT(*) FROM "Operations" """);
}
