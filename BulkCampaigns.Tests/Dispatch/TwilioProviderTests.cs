using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Suppressions;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>A template the fake's Content API lists; <see cref="Approval"/> null: its ApprovalRequests answer 404.</summary>
public sealed record FakeTemplate(string Sid, string Name, Dictionary<string, string> Variables, string Body, string? Approval, string Type = "twilio/text");

/// <summary>A message the fake accepted, as its Messages list shows it.</summary>
public sealed record FakeMessage(string Sid, string To, string? From, string? MessagingServiceSid, string Body, DateTimeOffset DateCreated);

/// <summary>
/// A stand-in for api.twilio.com and content.twilio.com on loopback: answers the first send 429, an unsubscribed number 21610,
/// the rest 201; lists what it accepted (Messages list) and its templates (Content API, <see cref="ContentPageSize"/> a page).
/// </summary>
public sealed class FakeTwilio : IAsyncDisposable
{
    public const string Unsubscribed = "+12025550999";

    /// <summary>Never met with the one 429 the fake answers, so tests using it don't take that 429 from the test that counts on it.</summary>
    public const string NeverThrottled = "+12025557101";
    private WebApplication? _app;
    private int _requests;
    private int _throttled;

    public string BaseUrl { get; private set; } = "";
    public ConcurrentQueue<(string Path, string? Authorization, Dictionary<string, string> Form, int Answer)> Sends { get; } = new();
    public ConcurrentQueue<FakeMessage> Accepted { get; } = new();
    public List<FakeTemplate> Templates { get; } = [];
    public int ContentPageSize { get; set; } = 2;

    /// <summary>When set, the Content API answers this status with a Twilio error body.</summary>
    public int? ContentFailure { get; set; }
    public int ContentListRequests => _contentListRequests;
    public ConcurrentQueue<string> ContentAuthorizations { get; } = new();
    private int _contentListRequests;

    /// <summary>What Twilio shows for a template send: the template's text with the variables filled in.</summary>
    public string Render(string contentSid, string variablesJson)
    {
        var template = Templates.Single(t => t.Sid == contentSid);
        var values = JsonSerializer.Deserialize<Dictionary<string, string>>(variablesJson)!;
        return System.Text.RegularExpressions.Regex.Replace(template.Body, @"\{\{(\w+)\}\}", m => values.GetValueOrDefault(m.Groups[1].Value, m.Value));
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/2010-04-01/Accounts/{sid}/Messages.json", async (HttpContext http, string sid) =>
        {
            var form = (await http.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString());
            var n = Interlocked.Increment(ref _requests);
            var throttle = form.GetValueOrDefault("To") != NeverThrottled && Interlocked.Exchange(ref _throttled, 1) == 0;
            var answer = throttle ? 429 : form.GetValueOrDefault("To") == Unsubscribed ? 400 : 201;
            Sends.Enqueue((http.Request.Path, http.Request.Headers.Authorization.ToString(), form, answer));
            switch (answer)
            {
                case 429:
                    http.Response.Headers.RetryAfter = "1";
                    return Results.Json(new { code = 20429, message = "Too Many Requests", status = 429 }, statusCode: 429);
                case 400:
                    return Results.Json(new { code = 21610, message = "Attempt to send to unsubscribed recipient", more_info = "https://www.twilio.com/docs/errors/21610", status = 400 }, statusCode: 400);
                default:
                    var body = form.TryGetValue("ContentSid", out var contentSid) ? Render(contentSid, form.GetValueOrDefault("ContentVariables", "{}")) : form["Body"];
                    var accepted = new FakeMessage($"SM{n:D32}", form["To"], form.GetValueOrDefault("From"), form.GetValueOrDefault("MessagingServiceSid"), body, DateTimeOffset.UtcNow);
                    Accepted.Enqueue(accepted);
                    return Results.Json(Json(accepted, sid), statusCode: 201);
            }
        });
        // The Messages list, filtered as Twilio filters it (To, From, DateSent>): what recovery reads.
        _app.MapGet("/2010-04-01/Accounts/{sid}/Messages.json", (HttpContext http, string sid) =>
        {
            var query = http.Request.Query;
            var after = query.TryGetValue("DateSent>", out var a) ? DateTimeOffset.Parse(a.ToString(), System.Globalization.CultureInfo.InvariantCulture) : DateTimeOffset.MinValue;
            var rows = Accepted.Where(m => (!query.ContainsKey("To") || m.To == query["To"]) && (!query.ContainsKey("From") || m.From == query["From"]) && m.DateCreated >= after)
                .Select(m => Json(m, sid)).ToList();
            return Results.Json(new Dictionary<string, object?>
            {
                ["messages"] = rows, ["page"] = 0, ["page_size"] = 50, ["start"] = 0, ["end"] = rows.Count, ["next_page_uri"] = null,
                ["first_page_uri"] = $"/2010-04-01/Accounts/{sid}/Messages.json?PageSize=50&Page=0", ["previous_page_uri"] = null,
                ["uri"] = $"/2010-04-01/Accounts/{sid}/Messages.json?PageSize=50&Page=0",
            });
        });
        _app.MapGet("/v1/Content", (HttpContext http) =>
        {
            Interlocked.Increment(ref _contentListRequests);
            ContentAuthorizations.Enqueue(http.Request.Headers.Authorization.ToString());
            if (ContentFailure is { } failure)
            {
                return Results.Json(new { code = 20003, message = "Authenticate", more_info = "https://www.twilio.com/docs/errors/20003", status = failure }, statusCode: failure);
            }
            var page = int.Parse(http.Request.Query["Page"].FirstOrDefault() ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            var rows = Templates.Skip(page * ContentPageSize).Take(ContentPageSize).Select(t => new Dictionary<string, object?>
            {
                ["sid"] = t.Sid, ["account_sid"] = "AC00000000000000000000000000000001", ["friendly_name"] = t.Name, ["language"] = "en",
                ["variables"] = t.Variables, ["types"] = new Dictionary<string, object> { [t.Type] = t.Type == "twilio/card" ? new { title = "Offer", body = t.Body } : new { body = t.Body } },
            }).ToList();
            var more = (page + 1) * ContentPageSize < Templates.Count;
            return Results.Json(new
            {
                contents = rows,
                // Twilio's own host, as the real API writes it: the client must keep to the host it was given.
                meta = new { page, page_size = ContentPageSize, key = "contents", next_page_url = more ? $"https://content.twilio.com/v1/Content?PageSize={ContentPageSize}&Page={page + 1}&PageToken=PT{page + 1}" : null },
            });
        });
        _app.MapGet("/v1/Content/{sid}/ApprovalRequests", (string sid) =>
            Templates.FirstOrDefault(t => t.Sid == sid) is { Approval: { } approval }
                ? Results.Json(new { sid, whatsapp = new { type = "whatsapp", status = approval, name = "t", category = "UTILITY" } })
                : Results.Json(new { code = 20404, message = "The requested resource was not found", status = 404 }, statusCode: 404));
        await _app.StartAsync();
        BaseUrl = _app.Urls.First();
    }

    private static Dictionary<string, object?> Json(FakeMessage m, string accountSid) => new()
    {
        ["sid"] = m.Sid, ["account_sid"] = accountSid, ["to"] = m.To, ["from"] = m.From, ["messaging_service_sid"] = m.MessagingServiceSid, ["body"] = m.Body,
        ["status"] = "queued", ["num_segments"] = "1", ["direction"] = "outbound-api", ["api_version"] = "2010-04-01",
        ["date_created"] = m.DateCreated.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", System.Globalization.CultureInfo.InvariantCulture),
    };

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class TwilioProviderTests(TwilioApp app) : TwilioProviderTests<TwilioApp>(app);

/// <summary>On PostgreSQL: the webhooks' look-ups, early reports and status callbacks through the PostgreSQL engine store.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class TwilioProviderTestsOnPostgres(PostgresTwilioApp app) : TwilioProviderTests<PostgresTwilioApp>(app);

public sealed class PostgresTwilioApp() : TwilioApp(TestProvider.Postgres);

/// <summary>The app sending through Twilio's API, answered by <see cref="FakeTwilio"/>.</summary>
public class TwilioApp : AppFactory, IAsyncLifetime
{
    public const string AccountSid = "AC00000000000000000000000000000001";
    public const string AuthToken = "twilio-test-token";

    public TwilioApp()
    {
    }

    protected TwilioApp(TestProvider provider) : base(provider)
    {
    }

    public FakeTwilio Twilio { get; } = new();

    public async Task InitializeAsync()
    {
        await Twilio.StartAsync();
        Settings["Messaging:Provider"] = "Twilio";
        Settings["Messaging:Twilio:AccountSid"] = AccountSid;
        Settings["Messaging:Twilio:AuthToken"] = AuthToken;
        Settings["Messaging:Twilio:BaseUrl"] = Twilio.BaseUrl;
        Settings["Messaging:Twilio:ContentBaseUrl"] = Twilio.BaseUrl;
        Settings["Messaging:Twilio:PublicBaseUrl"] = "http://localhost";
        Settings["Dispatch:RetryBaseDelayMs"] = "50";
    }

    async Task IAsyncLifetime.DisposeAsync() => await Twilio.DisposeAsync();
}

public abstract class TwilioProviderTests<TApp> : IClassFixture<TApp>, IDisposable
    where TApp : TwilioApp
{
    public const string AccountSid = TwilioApp.AccountSid;
    public const string AuthToken = TwilioApp.AuthToken;

    private readonly TApp _app;
    private readonly HttpClient _client;

    protected TwilioProviderTests(TApp app)
    {
        _app = app;
        _client = app.CreateApiClient();
    }

    public void Dispose()
    {
        _client.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Sends_well_formed_requests_retries_a_429_after_Retry_After_and_suppresses_an_unsubscribed_number_then_takes_signed_status_callbacks()
    {
        const string from = "+14155550401";
        await CreateSenderAsync(_client, from, 100);
        var id = await SendAsync(_client, new
        {
            from = new { address = from },
            to = new object[]
            {
                new { address = Number(7001), variables = new { name = "Ann" } },
                new { address = Number(7002), variables = new { name = "Bob" } },
                new { address = FakeTwilio.Unsubscribed, variables = new { name = "Cy" } },
            },
            content = new { text = "Hi {{name}}" },
        });

        var op = await WaitForStatusAsync(_client, id, "COMPLETED");
        AssertStatsAddUp(op);
        Assert.Equal(2, Stat(op, "sent"));
        Assert.Equal(1, Stat(op, "failed"));
        Assert.Equal(4, Stat(op, "attempts"));

        var sends = _app.Twilio.Sends.Where(s => s.Form["From"] == from).ToList();
        Assert.Equal(4, sends.Count);
        // Requests run concurrently: the one that met the 429 is whichever the fake numbered first.
        var throttled = Assert.Single(sends, s => s.Answer == 429);
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AccountSid}:{AuthToken}"));
        Assert.All(sends, s =>
        {
            Assert.Equal($"/2010-04-01/Accounts/{AccountSid}/Messages.json", s.Path);
            Assert.Equal(basic, s.Authorization);
            Assert.Equal(from, s.Form["From"]);
            Assert.StartsWith("http://localhost/webhooks/twilio/status?messageId=comms_message_", s.Form["StatusCallback"]);
        });
        Assert.Equal("Hi Ann", sends.Last(s => s.Form["To"] == Number(7001)).Form["Body"]);
        // The message that met the 429 went again and was accepted.
        Assert.Equal(throttled.Form["To"] == FakeTwilio.Unsubscribed ? 400 : 201, sends.Last(s => s.Form["To"] == throttled.Form["To"]).Answer);
        Assert.Equal(2, sends.Count(s => s.Form["To"] == throttled.Form["To"]));

        var failed = (await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages?operationId={id}&status=FAILED")).GetProperty("messages")[0];
        Assert.Equal("21610", failed.GetProperty("errorCode").GetString());
        Assert.True(await _app.Services.GetRequiredService<SuppressionService>().IsSuppressedAsync(FakeTwilio.Unsubscribed));

        // Status callbacks: a good signature moves the message on; a forged or missing one gets 403 and changes nothing.
        var sent = (await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages?operationId={id}&status=SENT")).GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(2, sent.Count);
        var callbackA = sends.Last(s => s.Form["To"] == sent[0].GetProperty("to").GetProperty("address").GetString() && s.Answer == 201).Form["StatusCallback"];
        var callbackB = sends.Last(s => s.Form["To"] == sent[1].GetProperty("to").GetProperty("address").GetString() && s.Answer == 201).Form["StatusCallback"];
        var fields = (string sid) => new Dictionary<string, string> { ["MessageSid"] = sid, ["MessageStatus"] = "delivered", ["AccountSid"] = AccountSid };

        var web = _app.CreateClient();
        var good = await PostSignedAsync(web, callbackA, fields(sent[0].GetProperty("providerMessageId").GetString()!), Sign(callbackA, fields(sent[0].GetProperty("providerMessageId").GetString()!)));
        Assert.Equal(HttpStatusCode.NoContent, good.StatusCode);
        var forged = await PostSignedAsync(web, callbackB, fields(sent[1].GetProperty("providerMessageId").GetString()!), Sign(callbackB + "&x=1", fields("SMforged")));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        var missing = await PostSignedAsync(web, callbackB, fields(sent[1].GetProperty("providerMessageId").GetString()!), null);
        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);

        Assert.Equal("DELIVERED", (await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages/{sent[0].GetProperty("id").GetString()}")).GetProperty("status").GetString());
        Assert.Equal("SENT", (await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages/{sent[1].GetProperty("id").GetString()}")).GetProperty("status").GetString());
        op = await GetOperationAsync(_client, id);
        Assert.Equal(1, Stat(op, "delivered"));
        AssertStatsAddUp(op);
    }

    [Fact]
    public async Task A_signed_status_callback_for_a_message_still_being_recorded_is_kept_not_refused()
    {
        const string from = "+14155550402";
        await CreateSenderAsync(_client, from, 100);
        var id = await SendAsync(_client, new { from = new { address = from }, to = new[] { new { address = FakeTwilio.NeverThrottled } }, content = new { text = "Hello" } });
        await WaitForStatusAsync(_client, id, "COMPLETED");
        var sent = (await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages?operationId={id}&status=SENT")).GetProperty("messages")[0];
        Assert.True(PublicId.TryDecode(PublicId.Message, sent.GetProperty("id").GetString()!, out var messageId));
        await _app.ExecuteSqlAsync($"""UPDATE "Messages" SET "Status" = 2 WHERE "Id" = {messageId}""");
        var callback = _app.Twilio.Sends.Last(s => s.Form["To"] == FakeTwilio.NeverThrottled && s.Answer == 201).Form["StatusCallback"];
        var fields = new Dictionary<string, string> { ["MessageSid"] = sent.GetProperty("providerMessageId").GetString()!, ["MessageStatus"] = "delivered", ["AccountSid"] = AccountSid };

        var answer = await PostSignedAsync(_app.CreateClient(), callback, fields, Sign(callback, fields));

        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal((long)MessageStatus.Delivered, await _app.ScalarAsync($"""SELECT "Status" FROM "EarlyReports" WHERE "MessageId" = {messageId}"""));
    }

    [Fact]
    public async Task Inbound_STOP_suppresses_the_number_and_START_lifts_it_with_signature_checks()
    {
        var web = _app.CreateClient();
        var suppressions = _app.Services.GetRequiredService<SuppressionService>();
        const string url = "http://localhost/webhooks/twilio/inbound";
        var stop = new Dictionary<string, string> { ["From"] = Number(7100), ["To"] = "+14155550401", ["Body"] = "  stop " };

        var forged = await PostSignedAsync(web, url, stop, Sign(url, new Dictionary<string, string> { ["From"] = Number(7100), ["Body"] = "START" }));
        Assert.True(forged.StatusCode == HttpStatusCode.Forbidden, await forged.Content.ReadAsStringAsync());
        Assert.False(await suppressions.IsSuppressedAsync(Number(7100)));

        var response = await PostSignedAsync(web, url, stop, Sign(url, stop));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<Response/>", await response.Content.ReadAsStringAsync());
        Assert.True(await suppressions.IsSuppressedAsync(Number(7100)));

        var start = new Dictionary<string, string> { ["From"] = Number(7100), ["To"] = "+14155550401", ["Body"] = "Start" };
        Assert.Equal(HttpStatusCode.OK, (await PostSignedAsync(web, url, start, Sign(url, start))).StatusCode);
        Assert.False(await suppressions.IsSuppressedAsync(Number(7100)));
    }

    [Fact]
    public async Task A_replayed_signed_STOP_after_START_does_not_suppress_the_number_again()
    {
        var web = _app.CreateClient();
        var suppressions = _app.Services.GetRequiredService<SuppressionService>();
        const string url = "http://localhost/webhooks/twilio/inbound";
        var stop = new Dictionary<string, string> { ["MessageSid"] = "SM" + new string('1', 32), ["From"] = Number(7200), ["To"] = "+14155550401", ["Body"] = "STOP" };
        var start = new Dictionary<string, string> { ["MessageSid"] = "SM" + new string('2', 32), ["From"] = Number(7200), ["To"] = "+14155550401", ["Body"] = "START" };

        Assert.Equal(HttpStatusCode.OK, (await PostSignedAsync(web, url, stop, Sign(url, stop))).StatusCode);
        Assert.True(await suppressions.IsSuppressedAsync(Number(7200)));
        Assert.Equal(HttpStatusCode.OK, (await PostSignedAsync(web, url, start, Sign(url, start))).StatusCode);
        Assert.False(await suppressions.IsSuppressedAsync(Number(7200)));

        var replay = await PostSignedAsync(web, url, stop, Sign(url, stop));

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Contains("<Response/>", await replay.Content.ReadAsStringAsync());
        Assert.False(await suppressions.IsSuppressedAsync(Number(7200)));
    }

    [Theory]
    [InlineData("/webhooks/twilio/inbound", true)]
    [InlineData("/webhooks/twilio/inbound", false)]
    [InlineData("/webhooks/twilio/status", true)]
    [InlineData("/webhooks/twilio/status", false)]
    public async Task A_5_MB_form_is_refused_plainly_with_413_before_it_is_read(string path, bool validlySigned)
    {
        var web = _app.CreateClient();
        var url = "http://localhost" + path;
        var huge = new Dictionary<string, string> { ["MessageSid"] = "SM" + new string('3', 32), ["From"] = Number(7300), ["Body"] = "STOP " + new string('x', 5 * 1024 * 1024) };

        var response = await PostSignedAsync(web, url, huge, validlySigned ? Sign(url, huge) : "forged");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("KB", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(await _app.Services.GetRequiredService<SuppressionService>().IsSuppressedAsync(Number(7300)));
    }

    private static Task<HttpResponseMessage> PostSignedAsync(HttpClient client, string url, Dictionary<string, string> fields, string? signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url).PathAndQuery) { Content = new FormUrlEncodedContent(fields) };
        if (signature is not null)
        {
            request.Headers.Add("X-Twilio-Signature", signature);
        }
        return client.SendAsync(request);
    }

    /// <summary>Twilio's scheme: HMAC-SHA1 over the URL followed by each field name and value in name order, base64.</summary>
    private static string Sign(string url, Dictionary<string, string> fields)
    {
        var data = new StringBuilder(url);
        foreach (var (key, value) in fields.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            data.Append(key).Append(value);
        }
#pragma warning disable CA5350 // Twilio's signature scheme is HMAC-SHA1; the test must compute it the same way.
        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(AuthToken), Encoding.UTF8.GetBytes(data.ToString())));
#pragma warning restore CA5350
    }
}
