using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Links;

/// <summary>The exact simulator, short links on a host of their own, and no redirect limit in the way of the tests.</summary>
public sealed class LinksApp : AppFactory
{
    public LinksApp() => LinksSettings.Apply(Settings);
}

public sealed class PostgresLinksApp : AppFactory
{
    public PostgresLinksApp() : base(TestProvider.Postgres) => LinksSettings.Apply(Settings);
}

public static class LinksSettings
{
    public const string BaseUrl = "https://go.example";

    public static void Apply(Dictionary<string, string?> settings)
    {
        UseExactSimulator(settings);
        settings["Links:BaseUrl"] = BaseUrl;
        settings["Links:PermitsPerSecond"] = "100000";
        settings["Links:Burst"] = "100000";
        settings["Links:FlushIntervalMs"] = "50";
    }
}

public sealed class LinkTrackingTests(LinksApp app) : LinkTrackingTests<LinksApp>(app);

[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class LinkTrackingTestsOnPostgres(PostgresLinksApp app) : LinkTrackingTests<PostgresLinksApp>(app);

public abstract partial class LinkTrackingTests<TApp> : IClassFixture<TApp>, IDisposable
    where TApp : AppFactory
{
    private readonly TApp _app;
    private readonly HttpClient _client;

    protected LinkTrackingTests(TApp app)
    {
        _app = app;
        _client = app.CreateApiClient();
    }

    public void Dispose()
    {
        _client.Dispose();
        GC.SuppressFinalize(this);
    }

    [GeneratedRegex(@"https://go\.example/l/([A-Za-z0-9]{16})")]
    private static partial Regex ShortLink();

    private async Task<(string OperationId, List<JsonElement> Received)> SendTrackedAsync(string from, int count, bool trackLinks = true)
    {
        await CreateSenderAsync(_client, from, 1000);
        var group = await InsertGroupAsync(_app.Settings.ConnectionString(_app),
            Enumerable.Range(0, count).Select(i => (Number(7000 + i), $$"""{"code":"C{{i}}X","name":"Ann {{i}}"}""")));
        var id = await SendAsync(_client, new
        {
            from = new { address = from },
            to = new[] { new { groupId = group } },
            content = new { text = "Hi {{name}}, your deal: https://shop.example/{{code}}?src=sms. More (see https://example.com/sale)", trackLinks },
        });
        await WaitForStatusAsync(_client, id, "COMPLETED");
        var received = (await SimulatorMessagesAsync(_client, $"&from={Uri.EscapeDataString(from)}")).ToList();
        Assert.Equal(count, received.Count);
        return (id, received);
    }

    private static string Variable(JsonElement received) => "C" + (int.Parse(received.GetProperty("to").GetString()![^4..], System.Globalization.CultureInfo.InvariantCulture) - 7000) + "X";

    private async Task<HttpResponseMessage> OpenAsync(string code, HttpMethod? method = null, string? userAgent = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, $"/l/{code}");
        if (userAgent is not null)
        {
            request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        }
        request.Headers.Authorization = null;
        return await _client.SendAsync(request);
    }

    [Fact]
    public async Task Received_bodies_carry_short_links_that_redirect_to_each_recipients_own_url()
    {
        var (_, received) = await SendTrackedAsync("+14155550801", 12);
        foreach (var message in received)
        {
            var body = message.GetProperty("body").GetString()!;
            Assert.DoesNotContain("shop.example", body);
            Assert.DoesNotContain("example.com/sale", body);
            var codes = ShortLink().Matches(body).Select(m => m.Groups[1].Value).ToList();
            Assert.Equal(2, codes.Count);
            // The sentence's punctuation stays outside the link: "…?src=sms." and "(see …)".
            Assert.Contains(codes[0] + ". More (see ", body);
            Assert.EndsWith(codes[1] + ")", body);

            using var first = await OpenAsync(codes[0]);
            Assert.Equal(HttpStatusCode.Found, first.StatusCode);
            Assert.Equal($"https://shop.example/{Variable(message)}?src=sms", first.Headers.Location!.ToString());
            using var second = await OpenAsync(codes[1]);
            Assert.Equal(HttpStatusCode.Found, second.StatusCode);
            Assert.Equal("https://example.com/sale", second.Headers.Location!.ToString());
        }
        // Every code is its own: twelve messages, two links each.
        Assert.Equal(24, received.SelectMany(m => ShortLink().Matches(m.GetProperty("body").GetString()!).Select(x => x.Value)).Distinct().Count());
    }

    [Fact]
    public async Task Clicked_counts_each_message_once_and_clicks_counts_every_click_while_HEAD_and_preview_fetchers_are_not_counted()
    {
        var (id, received) = await SendTrackedAsync("+14155550802", 4);
        var codes = received.OrderBy(m => m.GetProperty("to").GetString()).Select(m => ShortLink().Matches(m.GetProperty("body").GetString()!).Select(x => x.Groups[1].Value).ToArray()).ToArray();

        // Message 0: its first link three times and its second once; message 1: once. Message 2: only HEAD and link-preview fetchers.
        foreach (var code in new[] { codes[0][0], codes[0][0], codes[0][0], codes[0][1], codes[1][0] })
        {
            using var click = await OpenAsync(code, userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)");
            Assert.Equal(HttpStatusCode.Found, click.StatusCode);
        }
        using (var head = await OpenAsync(codes[2][0], HttpMethod.Head))
        {
            Assert.Equal(HttpStatusCode.Found, head.StatusCode);
        }
        foreach (var bot in new[] { "facebookexternalhit/1.1", "WhatsApp/2.23.20.0 A", "Twitterbot/1.0", "Slackbot-LinkExpanding 1.0", "TelegramBot (like TwitterBot)", "Mozilla/5.0 (compatible; Discordbot/2.0)", "Mozilla/5.0 SkypeUriPreview Preview/0.5", "Mozilla/5.0 (compatible; Googlebot/2.1)" })
        {
            using var preview = await OpenAsync(codes[2][1], userAgent: bot);
            Assert.Equal(HttpStatusCode.Found, preview.StatusCode);
        }

        var op = await WaitForAsync(_client, id, o => Stat(o, "clicks") >= 5);
        // One more round of the click writer: nothing else may arrive (HEAD and previews were not queued).
        await Task.Delay(300);
        op = await GetOperationAsync(_client, id);
        Assert.Equal(2, Stat(op, "clicked"));
        Assert.Equal(5, Stat(op, "clicks"));
        AssertStatsAddUp(op);

        var messages = (await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages?operationId={id}&pageSize=10")).GetProperty("messages").EnumerateArray()
            .ToDictionary(m => m.GetProperty("to").GetProperty("address").GetString()!);
        var to = received.Select(m => m.GetProperty("to").GetString()!).Order().ToArray();
        Assert.Equal(4, messages[to[0]].GetProperty("clicks").GetInt32());
        Assert.Equal(1, messages[to[1]].GetProperty("clicks").GetInt32());
        Assert.Equal(0, messages[to[2]].GetProperty("clicks").GetInt32());
        Assert.NotEqual(JsonValueKind.Null, messages[to[0]].GetProperty("clickedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, messages[to[2]].GetProperty("clickedAt").ValueKind);

        var links = (await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages/Operations/{id}/Links")).GetProperty("links").EnumerateArray()
            .ToDictionary(l => l.GetProperty("url").GetString()!, l => (Clicked: l.GetProperty("clicked").GetInt64(), Clicks: l.GetProperty("clicks").GetInt64()));
        Assert.Equal((1L, 3L), links[$"https://shop.example/{Variable(received.Single(m => m.GetProperty("to").GetString() == to[0]))}?src=sms"]);
        Assert.Equal((1L, 1L), links["https://example.com/sale"]);
        Assert.Equal(3, links.Count);
    }

    [Fact]
    public async Task An_unknown_malformed_or_altered_code_gets_a_plain_404_page_that_says_nothing_of_campaigns()
    {
        var (_, received) = await SendTrackedAsync("+14155550803", 1);
        var code = ShortLink().Match(received[0].GetProperty("body").GetString()!).Groups[1].Value;
        var altered = code[..15] + (code[15] == 'a' ? 'b' : 'a');
        foreach (var bad in new[] { altered, "AAAAAAAAAAAAAAAA", "short", code + "x", "%2E%2E%2Fadmin" })
        {
            using var response = await OpenAsync(bad);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var page = await response.Content.ReadAsStringAsync();
            Assert.Contains("Link not found", page);
            Assert.DoesNotContain("comms_", page);
            Assert.DoesNotContain("shop.example", page);
        }
    }

    [Fact]
    public async Task Without_trackLinks_the_urls_go_out_as_written()
    {
        var (_, received) = await SendTrackedAsync("+14155550804", 2, trackLinks: false);
        Assert.All(received, m => Assert.Contains("https://example.com/sale", m.GetProperty("body").GetString()));
        Assert.All(received, m => Assert.DoesNotMatch(ShortLink(), m.GetProperty("body").GetString()!));
    }

    [Fact]
    public async Task The_preview_counts_the_short_links_exact_length()
    {
        var (_, received) = await SendTrackedAsync("+14155550805", 1);
        var sent = received[0].GetProperty("body").GetString()!;
        var response = await _client.PostAsJsonAsync("/v1/Content/Preview", new
        {
            content = new { text = "Hi {{name}}, your deal: https://shop.example/{{code}}?src=sms. More (see https://example.com/sale)", trackLinks = true },
            variables = new Dictionary<string, string> { ["name"] = "Ann 0", ["code"] = "C0X" },
        });
        var preview = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, preview.ToString());
        var text = preview.GetProperty("text").GetString()!;
        Assert.Equal(sent.Length, text.Length);
        Assert.Equal(sent.Length, preview.GetProperty("characters").GetInt32());
        Assert.Equal(2, ShortLink().Count(text));
        Assert.DoesNotContain("shop.example", text);
    }
}
