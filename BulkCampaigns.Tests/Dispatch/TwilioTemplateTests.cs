using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>Twilio content templates and Messaging Service senders, against the fake Twilio's Messages and Content APIs.</summary>
public sealed class TwilioTemplateTests : IClassFixture<TwilioTemplateTests.App>, IDisposable
{
    public const string Welcome = "HXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01";
    public const string Code = "HXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa02";
    public const string Promo = "HXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa03";
    public const string Draft = "HXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa04";
    public const string Service = "MG0123456789abcdef0123456789abcdef";
    public const string OtherService = "MGfedcba9876543210fedcba9876543210";

    public sealed class App : AppFactory, IAsyncLifetime
    {
        public FakeTwilio Twilio { get; } = new();

        public async Task InitializeAsync()
        {
            Twilio.Templates.AddRange(
            [
                new(Welcome, "welcome_offer", new() { ["1"] = "Ann", ["2"] = "SPRING" }, "Hi {{1}}, your code is {{2}}.", "approved"),
                new(Code, "login_code", new() { ["1"] = "123456" }, "Your login code is {{1}}.", "rejected"),
                new(Promo, "promo_card", new() { ["1"] = "Ann" }, "{{1}}, 20% off today.", "pending", "twilio/card"),
                new(Draft, "draft_note", new() { ["1"] = "x" }, "Note: {{1}}", null),
            ]);
            await Twilio.StartAsync();
            Settings["Messaging:Provider"] = "Twilio";
            Settings["Messaging:Twilio:AccountSid"] = TwilioProviderTests.AccountSid;
            Settings["Messaging:Twilio:AuthToken"] = TwilioProviderTests.AuthToken;
            Settings["Messaging:Twilio:BaseUrl"] = Twilio.BaseUrl;
            Settings["Messaging:Twilio:ContentBaseUrl"] = Twilio.BaseUrl;
            Settings["Dispatch:RetryBaseDelayMs"] = "50";
        }

        async Task IAsyncLifetime.DisposeAsync() => await Twilio.DisposeAsync();
    }

    private readonly App _app;
    private readonly HttpClient _client;

    public TwilioTemplateTests(App app)
    {
        _app = app;
        _client = app.CreateApiClient();
    }

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task The_catalogue_reads_every_page_with_each_templates_WhatsApp_approval_and_keeps_it_until_refreshed()
    {
        var before = _app.Twilio.ContentListRequests;
        var body = await _client.GetFromJsonAsync<JsonElement>("/v1/ContentTemplates?refresh=true");
        var listed = _app.Twilio.ContentListRequests;

        var templates = body.GetProperty("templates").EnumerateArray().ToDictionary(t => t.GetProperty("sid").GetString()!);
        // Four templates at two a page: the second page was followed on the configured host, not content.twilio.com.
        Assert.Equal(4, templates.Count);
        Assert.Equal(2, listed - before);
        var welcome = templates[Welcome];
        Assert.Equal("welcome_offer", welcome.GetProperty("friendlyName").GetString());
        Assert.Equal("en", welcome.GetProperty("language").GetString());
        Assert.Equal("SPRING", welcome.GetProperty("variables").GetProperty("2").GetString());
        Assert.Equal(["twilio/text"], welcome.GetProperty("types").EnumerateArray().Select(t => t.GetString()!));
        Assert.Equal("Hi Ann, your code is SPRING.", welcome.GetProperty("preview").GetString());
        Assert.Equal("approved", welcome.GetProperty("approval").GetProperty("whatsapp").GetString());
        Assert.Equal("rejected", templates[Code].GetProperty("approval").GetProperty("whatsapp").GetString());
        Assert.Equal("pending", templates[Promo].GetProperty("approval").GetProperty("whatsapp").GetString());
        Assert.Equal("Offer\nAnn, 20% off today.", templates[Promo].GetProperty("preview").GetString());
        Assert.Equal("unsubmitted", templates[Draft].GetProperty("approval").GetProperty("whatsapp").GetString());
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TwilioProviderTests.AccountSid}:{TwilioProviderTests.AuthToken}"));
        Assert.All(_app.Twilio.ContentAuthorizations, a => Assert.Equal(basic, a));

        // Kept: a second read asks Twilio nothing; a refresh reads it again.
        await _client.GetFromJsonAsync<JsonElement>("/v1/ContentTemplates");
        Assert.Equal(listed, _app.Twilio.ContentListRequests);
        await _client.GetFromJsonAsync<JsonElement>("/v1/ContentTemplates?refresh=true");
        Assert.Equal(listed + 2, _app.Twilio.ContentListRequests);
    }

    [Fact]
    public async Task A_Twilio_error_reading_the_catalogue_is_a_plain_502_not_an_empty_list()
    {
        _app.Twilio.ContentFailure = 401;
        try
        {
            var response = await _client.GetAsync("/v1/ContentTemplates?refresh=true");

            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            var error = await response.Content.ReadFromJsonAsync<JsonElement>();
            var message = error.GetProperty("message").GetString()!;
            Assert.Contains("401", message, StringComparison.Ordinal);
            Assert.Contains("Authenticate", message, StringComparison.Ordinal);
            Assert.Contains("AuthToken", message, StringComparison.Ordinal);
            Assert.False(error.TryGetProperty("templates", out _));
        }
        finally
        {
            _app.Twilio.ContentFailure = null;
            await _client.GetAsync("/v1/ContentTemplates?refresh=true");
        }
    }

    [Fact]
    public async Task A_template_send_to_50_recipients_gives_Twilio_the_ContentSid_and_each_ones_rendered_variables_once()
    {
        const string from = "+14155550601";
        await CreateSenderAsync(_client, from, 1000);
        var recipients = Enumerable.Range(0, 50).Select(i => (Number(9000 + i), JsonSerializer.Serialize(new Dictionary<string, string> { ["first_name"] = $"Zoë{i}", ["code"] = $"C-{i:D3}" }))).ToList();
        var groupId = await InsertGroupAsync(_app.Database.ConnectionString, recipients);

        var id = await SendAsync(_client, new
        {
            from = new { address = from },
            to = new[] { new { groupId } },
            content = new { contentSid = Welcome, contentVariables = new Dictionary<string, string> { ["1"] = "{{first_name | upcase}}", ["2"] = "{{code}}" } },
        });

        var op = await WaitForStatusAsync(_client, id, "COMPLETED");
        Assert.Equal(50, Stat(op, "sent"));
        AssertStatsAddUp(op);
        var sends = _app.Twilio.Sends.Where(s => recipients.Any(r => r.Item1 == s.Form["To"])).ToList();
        Assert.All(recipients.Select((r, i) => (r.Item1, i)), r =>
        {
            var accepted = Assert.Single(sends, s => s.Form["To"] == r.Item1 && s.Answer == 201);
            Assert.Equal(Welcome, accepted.Form["ContentSid"]);
            Assert.False(accepted.Form.ContainsKey("Body"));
            Assert.Equal(from, accepted.Form["From"]);
            var variables = JsonSerializer.Deserialize<Dictionary<string, string>>(accepted.Form["ContentVariables"]);
            Assert.Equal(new Dictionary<string, string> { ["1"] = $"ZOË{r.i}", ["2"] = $"C-{r.i:D3}" }, variables);
        });
    }

    [Fact]
    public async Task Bad_template_content_is_a_400_naming_each_problem_and_makes_nothing()
    {
        const string from = "+14155550602";
        await CreateSenderAsync(_client, from, 10);
        var before = await _app.ScalarAsync("""SELECT COUNT(*) FROM "Operations" """);

        var unknown = await PostAsync(from, "SMS", new { contentSid = "HX" + new string('0', 32), contentVariables = new { } });
        Assert.Equal(["content.contentSid"], unknown);

        var badMap = await PostAsync(from, "SMS", new { contentSid = Welcome, contentVariables = new Dictionary<string, string> { ["1"] = new string('x', 1601), ["3"] = "{{ code" } });
        Assert.Contains("content.contentVariables.1", badMap);   // over Twilio's limit
        Assert.Contains("content.contentVariables.3", badMap);   // Liquid that does not parse
        var missing = await PostAsync(from, "SMS", new { contentSid = Welcome, contentVariables = new Dictionary<string, string> { ["1"] = "{{first_name}}", ["9"] = "x" } });
        Assert.Equal(["content.contentVariables.2", "content.contentVariables.9"], missing.Order());
        var malformed = await PostAsync(from, "SMS", new { contentSid = "HX12", contentVariables = new Dictionary<string, string> { ["1"] = "" } });
        Assert.Equal(["content.contentSid", "content.contentVariables.1"], malformed.Order());

        Assert.Equal(before, await _app.ScalarAsync("""SELECT COUNT(*) FROM "Operations" """));
    }

    [Fact]
    public async Task A_WhatsApp_sender_refuses_a_template_WhatsApp_has_not_approved_naming_it()
    {
        const string from = "+14155550603";
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/v1/Senders", new { address = from, channel = "WHATSAPP", mps = 10 })).StatusCode);
        var response = await _client.PostAsJsonAsync("/v1/Messages", new
        {
            from = new { address = from, channel = "WHATSAPP" },
            to = new[] { new { address = Number(9100), channel = "WHATSAPP" } },
            content = new { contentSid = Code, contentVariables = new Dictionary<string, string> { ["1"] = "123" } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = Assert.Single((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray());
        Assert.Equal("content.contentSid", error.GetProperty("field").GetString());
        Assert.Contains("\"login_code\" is not approved for WhatsApp", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recovery_of_a_WhatsApp_send_finds_it_under_its_whatsapp_address_so_it_is_not_sent_twice()
    {
        const string sender = "+14155550777";
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/v1/Senders", new { address = sender, channel = "WHATSAPP", mps = 100 })).StatusCode);
        string[] addresses = [Number(9300), Number(9301)];
        var id = await SendAsync(_client, new
        {
            from = new { address = sender, channel = "WHATSAPP" },
            to = addresses.Select(a => new { address = a }).ToArray(),
            content = new { text = "Your table is ready" },
            schedule = new { sendAt = new[] { DateTimeOffset.UtcNow.AddHours(1).ToString("O") } },
        });
        Assert.True(PublicId.TryDecode(PublicId.Operation, id, out var operationId));
        // As if the process died mid-batch: both SENDING, and Twilio holding the first, listed as WhatsApp lists it.
        var claimedAt = DateTimeOffset.UtcNow.AddMinutes(-10);
        await _app.ExecuteSqlAsync($"""
            UPDATE "Operations" SET "Status" = 1, "Scheduled" = 0, "Sending" = 2, "StartedAt" = {claimedAt.ToUnixTimeMilliseconds()} WHERE "Id" = {operationId};
            UPDATE "Messages" SET "Status" = 2, "ClaimedAt" = {claimedAt.ToUnixTimeMilliseconds()}, "UpdatedAt" = {claimedAt.ToUnixTimeMilliseconds()} WHERE "OperationId" = {operationId};
            """);
        _app.Twilio.Accepted.Enqueue(new FakeMessage("SM" + new string('a', 32), "whatsapp:" + addresses[0], "whatsapp:" + sender, null, "Your table is ready", claimedAt.AddSeconds(1)));

        Assert.Equal(2, await _app.Services.GetRequiredService<InFlightSweeper>().SweepAsync(CancellationToken.None));

        var op = await WaitForStatusAsync(_client, id, "COMPLETED");
        Assert.Equal(2, Stat(op, "sent"));
        var first = (await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages?operationId={id}&address={Uri.EscapeDataString(addresses[0])}")).GetProperty("messages")[0];
        Assert.Equal("SM" + new string('a', 32), first.GetProperty("providerMessageId").GetString());
        Assert.DoesNotContain(_app.Twilio.Sends, s => s.Form["To"] == "whatsapp:" + addresses[0]);
        Assert.Single(_app.Twilio.Sends, s => s.Form["To"] == "whatsapp:" + addresses[1] && s.Answer == 201);
    }

    [Fact]
    public async Task A_Messaging_Service_sender_sends_with_MessagingServiceSid_and_recovery_finds_what_its_service_sent_so_none_goes_twice()
    {
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/v1/Senders", new { address = Service, channel = "SMS", mps = 100 })).StatusCode);
        string[] addresses = [Number(9200), Number(9201), Number(9202)];
        var id = await SendAsync(_client, new
        {
            from = new { address = Service },
            to = addresses.Select(a => new { address = a, variables = new { name = "Al" } }).ToArray(),
            content = new { contentSid = Welcome, contentVariables = new Dictionary<string, string> { ["1"] = "{{name}}", ["2"] = "{{address}}" } },
            schedule = new { sendAt = new[] { DateTimeOffset.UtcNow.AddHours(1).ToString("O") } },
        });
        Assert.True(PublicId.TryDecode(PublicId.Operation, id, out var operationId));
        // As if the process died mid-batch: all SENDING, and Twilio holding the first one, sent through the service. The
        // same text to the same number from another service (another campaign) must not be taken for it.
        var claimedAt = DateTimeOffset.UtcNow.AddMinutes(-10);
        await _app.ExecuteSqlAsync($"""
            UPDATE "Operations" SET "Status" = 1, "Scheduled" = 0, "Sending" = 3, "StartedAt" = {claimedAt.ToUnixTimeMilliseconds()} WHERE "Id" = {operationId};
            UPDATE "Messages" SET "Status" = 2, "ClaimedAt" = {claimedAt.ToUnixTimeMilliseconds()}, "UpdatedAt" = {claimedAt.ToUnixTimeMilliseconds()} WHERE "OperationId" = {operationId};
            """);
        var shown = $"Hi Al, your code is {addresses[0]}.";
        _app.Twilio.Accepted.Enqueue(new FakeMessage("SM" + new string('e', 32), addresses[1], null, OtherService, $"Hi Al, your code is {addresses[1]}.", claimedAt.AddSeconds(1)));
        _app.Twilio.Accepted.Enqueue(new FakeMessage("SM" + new string('f', 32), addresses[0], null, Service, shown, claimedAt.AddSeconds(1)));

        Assert.Equal(3, await _app.Services.GetRequiredService<InFlightSweeper>().SweepAsync(CancellationToken.None));

        var op = await WaitForStatusAsync(_client, id, "COMPLETED");
        Assert.Equal(3, Stat(op, "sent"));
        AssertStatsAddUp(op);
        var first = (await _client.GetFromJsonAsync<JsonElement>($"/v1/Messages?operationId={id}&address={Uri.EscapeDataString(addresses[0])}")).GetProperty("messages")[0];
        Assert.Equal("SM" + new string('f', 32), first.GetProperty("providerMessageId").GetString());
        var sends = _app.Twilio.Sends.Where(s => addresses.Contains(s.Form["To"])).ToList();
        Assert.DoesNotContain(sends, s => s.Form["To"] == addresses[0]);
        foreach (var address in addresses[1..])
        {
            var accepted = Assert.Single(sends, s => s.Form["To"] == address && s.Answer == 201);
            Assert.Equal(Service, accepted.Form["MessagingServiceSid"]);
            Assert.False(accepted.Form.ContainsKey("From"));
            Assert.Equal(Welcome, accepted.Form["ContentSid"]);
        }
    }

    private async Task<List<string>> PostAsync(string from, string channel, object content)
    {
        var response = await _client.PostAsJsonAsync("/v1/Messages", new { from = new { address = from, channel }, to = new[] { new { address = Number(9300) } }, content });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()!).ToList();
    }
}
