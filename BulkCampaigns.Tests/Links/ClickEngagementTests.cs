using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Links;

public sealed class ClickEngagementTests(LinksApp app) : ClickEngagementTests<LinksApp>(app);

[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class ClickEngagementTestsOnPostgres(PostgresLinksApp app) : ClickEngagementTests<PostgresLinksApp>(app);

/// <summary>Real clicks through <c>/l/{code}</c> picking an A/B winner and selecting segment recipients.</summary>
public abstract partial class ClickEngagementTests<TApp> : IClassFixture<TApp>, IDisposable
    where TApp : AppFactory
{
    private readonly TApp _app;
    private readonly HttpClient _client;

    protected ClickEngagementTests(TApp app)
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

    private static string Code(JsonElement received) => ShortLink().Match(received.GetProperty("body").GetString()!).Groups[1].Value;

    private async Task ClickAsync(string code)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/l/{code}");
        request.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)");
        request.Headers.Authorization = null;
        using var response = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
    }

    private static long Key(string operationId) => PublicId.TryDecode(PublicId.Operation, operationId, out var id) ? id : throw new ArgumentException(operationId);

    private async Task<long> CountAsync(string group, string filter)
    {
        using var body = new StringContent($$"""{"groupIds": ["{{group}}"], "filter": {{filter}} }""", Encoding.UTF8, "application/json");
        var response = await _client.PostAsync("/v1/Segments/Count", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("recipientCount").GetInt64();
    }

    [Fact]
    public async Task With_metric_clicked_the_variant_whose_short_links_were_opened_more_wins_and_each_variant_shows_its_clicked_messages()
    {
        const string from = "+14155550851";
        await CreateSenderAsync(_client, from, 1000);
        var content = new
        {
            variants = new object[]
            {
                new { name = "A", weight = 50, content = new { text = "A hello, see https://shop.example/a" } },
                new { name = "B", weight = 50, content = new { text = "B hi, see https://shop.example/b" } },
            },
            test = new { share = 50, decideAfter = "PT1H", metric = "clicked" },
            trackLinks = true,
        };
        var id = await SendAsync(_client, new
        {
            from = new { address = from },
            to = Enumerable.Range(7600, 200).Select(i => new { address = Number(i) }).ToArray(),
            content,
        });
        var op = await WaitForStatusAsync(_client, id, "WAITING_FOR_WINNER");
        var tested = op.GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("total").GetInt64()).ToArray();
        var received = await SimulatorMessagesAsync(_client, $"&from={Uri.EscapeDataString(from)}");
        var a = received.Where(m => m.GetProperty("body").GetString()!.StartsWith('A')).Select(Code).ToList();
        var b = received.Where(m => m.GetProperty("body").GetString()!.StartsWith('B')).Select(Code).ToList();
        Assert.Equal(tested[0], a.Count);
        Assert.Equal(tested[1], b.Count);
        Assert.True(a.Count >= 10 && b.Count >= 10, $"the split: {a.Count} / {b.Count}");

        // A: one message clicked; B: three, one of them twice (a message counts once).
        foreach (var code in new[] { a[0], b[0], b[0], b[1], b[2] })
        {
            await ClickAsync(code);
        }
        op = await WaitForAsync(_client, id, o => Stat(o, "clicks") == 5);
        var variants = op.GetProperty("variants").EnumerateArray().ToList();
        Assert.Equal(1, variants[0].GetProperty("clicked").GetInt64());
        Assert.Equal(3, variants[1].GetProperty("clicked").GetInt64());
        Assert.Equal(4, Stat(op, "clicked"));

        // The decision's job, run as if its hour had passed.
        await using (var connection = Open(_app.Settings.ConnectionString(_app)))
        {
            await connection.OpenAsync();
            await using var due = connection.CreateCommand();
            due.CommandText = $"""UPDATE "Operations" SET "DecideAt" = 1 WHERE "Id" = {Key(id)}""";
            Assert.Equal(1, await due.ExecuteNonQueryAsync());
        }
        await _app.Services.GetRequiredService<VariantWinner>().DecideAsync(Key(id), CancellationToken.None);
        op = await WaitForStatusAsync(_client, id, "COMPLETED");
        var winner = op.GetProperty("winner");
        Assert.Equal("B", winner.GetProperty("name").GetString());
        Assert.Equal(Math.Round(1.0 / a.Count, 4), winner.GetProperty("rates").GetProperty("A").GetDouble());
        Assert.Equal(Math.Round(3.0 / b.Count, 4), winner.GetProperty("rates").GetProperty("B").GetDouble());
        // The rest got B.
        var all = await SimulatorMessagesAsync(_client, $"&from={Uri.EscapeDataString(from)}");
        Assert.Equal(200, all.Count);
        Assert.Equal(a.Count, all.Count(m => m.GetProperty("body").GetString()!.StartsWith('A')));
    }

    [Fact]
    public async Task Engagement_clicked_finds_the_recipients_who_opened_a_link_and_notClicked_those_sent_who_did_not()
    {
        const string from = "+14155550852";
        await CreateSenderAsync(_client, from, 1000);
        var group = await InsertGroupAsync(_app.Settings.ConnectionString(_app), Enumerable.Range(7800, 6).Select(i => (Number(i), "{}")), "click segment");
        var sent = await SendAsync(_client, new
        {
            from = new { address = from },
            to = new[] { new { groupId = group } },
            content = new { text = "Sale today: https://shop.example/sale", trackLinks = true },
        });
        await WaitForStatusAsync(_client, sent, "COMPLETED");
        // The same group again, an hour ahead: its messages are not sent yet, so nobody is notClicked in it.
        var later = await SendAsync(_client, new
        {
            from = new { address = from },
            to = new[] { new { groupId = group } },
            content = new { text = "Later: https://shop.example/later", trackLinks = true },
            schedule = new { sendAt = new[] { DateTimeOffset.UtcNow.AddHours(1).ToString("O", CultureInfo.InvariantCulture) } },
        });

        string Filter(string op, string evt) => $$$"""{"engagement": {"operationId": "{{{op}}}", "event": "{{{evt}}}"}}""";
        Assert.Equal(0, await CountAsync(group, Filter(sent, "clicked")));
        Assert.Equal(6, await CountAsync(group, Filter(sent, "notClicked")));

        var received = (await SimulatorMessagesAsync(_client, $"&from={Uri.EscapeDataString(from)}")).OrderBy(m => m.GetProperty("to").GetString()).ToList();
        Assert.Equal(6, received.Count);
        foreach (var code in new[] { Code(received[0]), Code(received[0]), Code(received[3]) })
        {
            await ClickAsync(code);
        }
        await WaitForAsync(_client, sent, o => Stat(o, "clicks") == 3);

        Assert.Equal(2, await CountAsync(group, Filter(sent, "clicked")));
        Assert.Equal(4, await CountAsync(group, Filter(sent, "notClicked")));
        Assert.Equal(4, await CountAsync(group, $$"""{"not": {{Filter(sent, "clicked")}} }"""));
        Assert.Equal(0, await CountAsync(group, Filter(later, "clicked")));
        Assert.Equal(0, await CountAsync(group, Filter(later, "notClicked")));
        Assert.Equal(6, await CountAsync(group, $$"""{"not": {{Filter(later, "clicked")}} }"""));

        // A saved segment launched to those who did not click reaches exactly them.
        using var save = new StringContent($$"""{"name": "Did not click", "groupIds": ["{{group}}"], "filter": {{Filter(sent, "notClicked")}} }""", Encoding.UTF8, "application/json");
        var saved = await _client.PostAsync("/v1/Segments", save);
        var savedText = await saved.Content.ReadAsStringAsync();
        Assert.True(saved.IsSuccessStatusCode, savedText);
        var segment = JsonDocument.Parse(savedText).RootElement.GetProperty("id").GetString();
        var again = await SendAsync(_client, new
        {
            from = new { address = from },
            to = new[] { new { segmentId = segment } },
            content = new { text = "Still on sale" },
        });
        await WaitForStatusAsync(_client, again, "COMPLETED");
        var reached = (await SimulatorMessagesAsync(_client, $"&from={Uri.EscapeDataString(from)}"))
            .Where(m => m.GetProperty("body").GetString() == "Still on sale").Select(m => m.GetProperty("to").GetString()).Order(StringComparer.Ordinal).ToList();
        var notClicked = received.Select(m => m.GetProperty("to").GetString()).Where((_, i) => i is not (0 or 3)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(notClicked, reached);
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/v1/Messages/Operations/{later}/Cancel", null)).StatusCode);
    }
}
