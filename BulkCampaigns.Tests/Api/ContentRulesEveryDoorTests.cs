using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Api;

/// <summary>
/// A content the designer (and /v1/Content, and the preview) refuses is refused by POST /v1/Messages too, with the
/// same field named: every door reads content into one model and checks it with ContentRules.
/// </summary>
public sealed class ContentRulesEveryDoorTests : IClassFixture<AppFactory>, IAsyncLifetime
{
    private const string From = "+15551239900";
    private readonly AppFactory _app;
    private readonly HttpClient _client;

    public ContentRulesEveryDoorTests(AppFactory app)
    {
        _app = app;
        _client = app.CreateApiClient();
    }

    public async Task InitializeAsync()
    {
        var response = await _client.PostAsJsonAsync("/v1/Senders", new { address = From, channel = "SMS", mps = 10 });
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict or HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static string Media(int count) => string.Join(",", Enumerable.Range(0, count).Select(i => $"\"https://example.com/{i}.jpg\""));

    private static string Suggestions(int count) => string.Join(",", Enumerable.Range(0, count).Select(i => $"{{\"type\": \"REPLY\", \"title\": \"Yes {i}\"}}"));

    /// <summary>Each content POST /v1/Messages accepted before these rules were shared, and the field each problem is on.</summary>
    public static TheoryData<string, string, string> RefusedContents => new()
    {
        { "text over 1,600 characters", $"{{\"text\": \"{new string('a', 1601)}\"}}", "content.text" },
        { "a text of only spaces", "{\"text\": \"   \"}", "content.text" },
        { "more than 10 media", $"{{\"text\": \"hi\", \"media\": [{Media(11)}]}}", "content.media" },
        { "a media URL over 2,048 characters", $"{{\"text\": \"hi\", \"media\": [\"https://example.com/{new string('a', 3000)}.jpg\"]}}", "content.media[0]" },
        { "a media URL with a Liquid syntax error", "{\"text\": \"hi\", \"media\": [\"https://example.com/{{ id .jpg\"]}", "content.media[0]" },
        { "text and modules together", "{\"text\": \"hi\", \"modules\": [{\"sms\": {\"text\": \"hi\"}}]}", "content" },
        { "more than 3 modules", "{\"modules\": [{\"sms\": {\"text\": \"a\"}}, {\"rcs\": {\"text\": \"b\"}}, {\"whatsapp\": {\"text\": \"c\"}}, {\"sms\": {\"text\": \"d\"}}]}", "content.modules" },
        { "one channel twice", "{\"modules\": [{\"sms\": {\"text\": \"a\"}}, {\"sms\": {\"text\": \"b\"}}]}", "content.modules[1]" },
        { "two channels in one module", "{\"modules\": [{\"sms\": {\"text\": \"a\"}, \"rcs\": {\"text\": \"b\"}}]}", "content.modules[0]" },
        { "an unknown channel", "{\"modules\": [{\"email\": {\"text\": \"a\"}}]}", "content.modules[0]" },
        { "an sms module text over 1,600 characters", $"{{\"modules\": [{{\"sms\": {{\"text\": \"{new string('a', 1601)}\"}}}}]}}", "content.modules[0].sms.text" },
        { "an sms module with more than 10 media", $"{{\"modules\": [{{\"sms\": {{\"text\": \"a\", \"media\": [{Media(11)}]}}}}]}}", "content.modules[0].sms.media" },
        { "an rcs module text over 1,600 characters", $"{{\"modules\": [{{\"rcs\": {{\"text\": \"{new string('a', 1601)}\"}}}}]}}", "content.modules[0].rcs.text" },
        { "an rcs media URL that is not http(s)", "{\"modules\": [{\"rcs\": {\"text\": \"a\", \"media\": [\"ftp://example.com/a.jpg\"]}}]}", "content.modules[0].rcs.media[0]" },
        { "a rich card title over 200 characters", $"{{\"modules\": [{{\"rcs\": {{\"richCard\": {{\"title\": \"{new string('t', 201)}\"}}}}}}]}}", "content.modules[0].rcs.richCard.title" },
        { "a rich card description over 2,000 characters", $"{{\"modules\": [{{\"whatsapp\": {{\"richCard\": {{\"description\": \"{new string('d', 2001)}\"}}}}}}]}}", "content.modules[0].whatsapp.richCard.description" },
        { "a rich card media URL that is not http(s)", "{\"modules\": [{\"rcs\": {\"richCard\": {\"title\": \"t\", \"media\": [\"javascript:alert(1)\"]}}}]}", "content.modules[0].rcs.richCard.media[0]" },
        { "more than 4 suggestions", $"{{\"modules\": [{{\"rcs\": {{\"richCard\": {{\"title\": \"t\", \"suggestions\": [{Suggestions(5)}]}}}}}}]}}", "content.modules[0].rcs.richCard.suggestions" },
        { "a suggestion of an unknown type", "{\"modules\": [{\"rcs\": {\"richCard\": {\"title\": \"t\", \"suggestions\": [{\"type\": \"CALL\", \"title\": \"Call\"}]}}}]}", "content.modules[0].rcs.richCard.suggestions[0].type" },
        { "a suggestion title over 25 characters", $"{{\"modules\": [{{\"rcs\": {{\"richCard\": {{\"title\": \"t\", \"suggestions\": [{{\"type\": \"REPLY\", \"title\": \"{new string('s', 26)}\"}}]}}}}}}]}}", "content.modules[0].rcs.richCard.suggestions[0].title" },
        { "a URL suggestion without a url", "{\"modules\": [{\"rcs\": {\"richCard\": {\"title\": \"t\", \"suggestions\": [{\"type\": \"URL\", \"title\": \"Open\"}]}}}]}", "content.modules[0].rcs.richCard.suggestions[0].url" },
        { "a URL suggestion whose url is not http(s)", "{\"modules\": [{\"rcs\": {\"richCard\": {\"title\": \"t\", \"suggestions\": [{\"type\": \"URL\", \"title\": \"Open\", \"url\": \"mailto:a@b.c\"}]}}}]}", "content.modules[0].rcs.richCard.suggestions[0].url" },
        { "a suggestion title with a Liquid syntax error", "{\"modules\": [{\"rcs\": {\"richCard\": {\"title\": \"t\", \"suggestions\": [{\"type\": \"REPLY\", \"title\": \"{% if x %}\"}]}}}]}", "content.modules[0].rcs.richCard.suggestions[0].title" },
    };

    [Theory]
    [MemberData(nameof(RefusedContents))]
    public async Task A_content_the_designer_refuses_is_refused_by_POST_Messages_and_every_other_door_with_the_same_field_and_nothing_is_made(string rule, string content, string field)
    {
        var before = await OperationCountAsync();
        var body = $"{{\"from\": {{\"address\": \"{From}\", \"channel\": \"SMS\"}}, \"to\": [{{\"address\": \"+18015550100\"}}], \"content\": {content}}}";

        var response = await _client.PostAsync("/v1/Messages", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{rule}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var sent = await FieldsAsync(response);
        Assert.Contains(field, sent);
        Assert.Equal(before, await OperationCountAsync());

        // The preview, the template and the wizard's doors name the same field for the same content.
        var preview = await _client.PostAsync("/v1/Content/Preview", new StringContent($"{{\"content\": {content}}}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, preview.StatusCode);
        Assert.Contains(field, await FieldsAsync(preview));
        var template = await _client.PostAsync("/v1/Content", new StringContent($"{{\"name\": \"Refused\", \"content\": {content}}}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, template.StatusCode);
        Assert.Contains(field, await FieldsAsync(template));
        var wizard = _app.Services.GetRequiredService<OperationCreation>();
        var (operationId, validation) = await wizard.CreateAsync(new OperationDraft(From, "SMS", [new AudienceItem("+18015550100")], content));
        Assert.Null(operationId);
        Assert.Contains(field, validation.Errors.Select(e => e.Field));
        Assert.Equal(before, await OperationCountAsync());
    }

    [Fact]
    public async Task A_content_with_a_value_of_the_wrong_type_is_named_by_its_path()
    {
        var body = $"{{\"from\": {{\"address\": \"{From}\"}}, \"to\": [{{\"address\": \"+18015550100\"}}], \"content\": {{\"text\": \"hi\", \"media\": [\"https://example.com/a.jpg\", 7]}}}}";

        var response = await _client.PostAsync("/v1/Messages", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("content.media[1]", await FieldsAsync(response));
    }

    [Fact]
    public async Task A_content_within_every_limit_is_still_accepted_by_POST_Messages()
    {
        var card = $"{{\"rcs\": {{\"richCard\": {{\"title\": \"{new string('t', 200)}\", \"media\": [{Media(10)}], \"suggestions\": [{Suggestions(4)}]}}}}}}";
        var body = $"{{\"from\": {{\"address\": \"{From}\"}}, \"to\": [{{\"address\": \"+18015550101\"}}], \"content\": {{\"modules\": [{card}, {{\"sms\": {{\"text\": \"{new string('a', 1600)}\"}}}}]}}}}";

        var response = await _client.PostAsync("/v1/Messages", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
    }

    private static async Task<List<string>> FieldsAsync(HttpResponseMessage response)
    {
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(400, error.GetProperty("status").GetInt32());
        return error.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()!).ToList();
    }

    private Task<long> OperationCountAsync() => _app.Database.CountAsync("""SELECT COUNT(*) FROM "Operations" """);
}
