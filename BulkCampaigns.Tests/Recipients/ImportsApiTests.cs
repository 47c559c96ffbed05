using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Recipients;

/// <summary>Helpers to drive groups and imports through HTTP as an API user would.</summary>
internal static class GroupsClient
{
    public static async Task<string> CreateGroupAsync(this HttpClient client, string name)
    {
        var response = await client.PostAsJsonAsync("/v1/Groups", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    public static Task<HttpResponseMessage> PostCsvAsync(this HttpClient client, string groupId, string csv, string query = "") =>
        client.PostAsync($"/v1/Groups/{groupId}/Imports{query}", new StringContent(csv, Encoding.UTF8, "text/csv"));

    /// <summary>Follows the import until it is no longer PROCESSING (a bail-out, not a timing assertion).</summary>
    public static async Task<JsonElement> WaitForImportAsync(this HttpClient client, Uri location)
    {
        for (var i = 0; i < 600; i++)
        {
            var status = await client.GetFromJsonAsync<JsonElement>(location);
            if (status.GetProperty("status").GetString() != "PROCESSING")
            {
                return status;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("The import did not finish within a minute.");
    }

    public static async Task<JsonElement> ImportAsync(this HttpClient client, string groupId, string csv, string query = "")
    {
        var response = await client.PostCsvAsync(groupId, csv, query);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await client.WaitForImportAsync(response.Headers.Location!);
    }

    public static async Task<List<JsonElement>> AllRecipientsAsync(this HttpClient client, string groupId, int pageSize, string search = "", string variable = "")
    {
        var all = new List<JsonElement>();
        string? next = $"/v1/Groups/{groupId}/Recipients?pageSize={pageSize}&full=true" + (search.Length > 0 ? "&search=" + Uri.EscapeDataString(search) : "") +
                       (variable.Length > 0 ? "&variable=" + Uri.EscapeDataString(variable) : "");
        while (next is not null)
        {
            var page = await client.GetFromJsonAsync<JsonElement>(next);
            all.AddRange(page.GetProperty("recipients").EnumerateArray());
            next = page.GetProperty("pagination").GetProperty("next").GetString();
        }
        return all;
    }
}

/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class ImportsApiTests(AppFactory app) : ImportsApiTests<AppFactory>(app);

/// <summary>On PostgreSQL: the stage by binary COPY and the move by one INSERT … SELECT … ON CONFLICT.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class ImportsApiTestsOnPostgres(PostgresImportsApp app) : ImportsApiTests<PostgresImportsApp>(app);

public sealed class PostgresImportsApp() : AppFactory(TestProvider.Postgres);

public abstract class ImportsApiTests<TApp>(TApp app) : IClassFixture<TApp>
    where TApp : AppFactory
{
    private readonly HttpClient _client = app.CreateApiClient();

    [Fact]
    public async Task An_import_answers_202_at_once_then_reports_counts_and_every_rejected_row_with_its_line_and_reason()
    {
        var group = await _client.CreateGroupAsync("Spring promo");
        var csv = "phone,first_name,city\n" +
                  "2015550101,Ann,Paris\n" +
                  "12ab,Bob,Rome\n" +
                  "+12015550102,\"Cy, Jr.\",\"New\nYork\"\n" +
                  "2015550101,Ann again,Lyon\n" +
                  ",Nobody,Oslo\n" +
                  "2015550103,Short\n";

        var response = await _client.PostCsvAsync(group, csv);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("imp_", accepted.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("PROCESSING", accepted.GetProperty("status").GetString());
        var import = await _client.WaitForImportAsync(response.Headers.Location!);
        Assert.Equal("COMPLETED", import.GetProperty("status").GetString());
        Assert.Equal(6, import.GetProperty("rowsRead").GetInt64());
        Assert.Equal(2, import.GetProperty("imported").GetInt64());
        Assert.Equal(1, import.GetProperty("duplicates").GetInt64());
        Assert.Equal(3, import.GetProperty("rejected").GetInt64());
        var errors = import.GetProperty("errors").EnumerateArray().ToList();
        Assert.Equal([(2, 3), (5, 7), (6, 8)], errors.Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("line").GetInt32())));
        Assert.Equal("12ab", errors[0].GetProperty("value").GetString());
        Assert.Equal("phone", errors[0].GetProperty("column").GetString());
        Assert.Equal(BulkCampaigns.Recipients.PhoneAddress.LettersReason, errors[0].GetProperty("reason").GetString());

        var report = await _client.GetStringAsync(import.GetProperty("errorReportUrl").GetString());
        var lines = report.TrimEnd().Split("\r\n");
        Assert.Equal("row,line,column,value,reason", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.Equal("2,3,phone,12ab," + BulkCampaigns.Recipients.PhoneAddress.LettersReason, lines[1]);

        // upsert (the default): the later row of a duplicate wins
        var recipients = await _client.AllRecipientsAsync(group, 50);
        var ann = recipients.Single(r => r.GetProperty("address").GetString() == "+12015550101");
        Assert.Equal("Ann again", ann.GetProperty("variables").GetProperty("first_name").GetString());
        var cy = recipients.Single(r => r.GetProperty("address").GetString() == "+12015550102");
        Assert.Equal("New\nYork", cy.GetProperty("variables").GetProperty("city").GetString());
        var groupJson = await _client.GetFromJsonAsync<JsonElement>($"/v1/Groups/{group}");
        Assert.Equal(2, groupJson.GetProperty("recipientCount").GetInt64());
        Assert.Equal(["first_name", "city"], groupJson.GetProperty("attributeKeys").EnumerateArray().Select(k => k.GetString()));
    }

    [Fact]
    public async Task Append_keeps_the_first_row_and_counts_existing_addresses_as_duplicates_while_upsert_updates_them()
    {
        var group = await _client.CreateGroupAsync("Modes");
        await _client.ImportAsync(group, "phone,name\n2015550111,First\n2015550112,Other\n");

        var append = await _client.ImportAsync(group, "phone,name\n2015550111,Second\n2015550113,New\n", "?mode=append");
        Assert.Equal(1, append.GetProperty("imported").GetInt64());
        Assert.Equal(1, append.GetProperty("duplicates").GetInt64());
        var upsert = await _client.ImportAsync(group, "phone,name\n2015550111,Third\n", "?mode=upsert");
        Assert.Equal(1, upsert.GetProperty("updated").GetInt64());

        var names = (await _client.AllRecipientsAsync(group, 10)).ToDictionary(r => r.GetProperty("address").GetString()!, r => r.GetProperty("variables").GetProperty("name").GetString());
        Assert.Equal("Third", names["+12015550111"]);
        Assert.Equal(3, names.Count);

        var replace = await _client.ImportAsync(group, "phone,name\n2015550199,Only\n", "?mode=replace");
        Assert.Equal("COMPLETED", replace.GetProperty("status").GetString());
        Assert.Equal(["+12015550199"], (await _client.AllRecipientsAsync(group, 10)).Select(r => r.GetProperty("address").GetString()));
    }

    [Fact]
    public async Task Following_next_returns_every_recipient_exactly_once_and_search_matches_an_address_prefix()
    {
        var group = await _client.CreateGroupAsync("Paging");
        var csv = new StringBuilder("phone,n\n");
        for (var i = 0; i < 123; i++)
        {
            csv.Append(2015550000 + i).Append(',').Append(i).Append('\n');
        }
        await _client.ImportAsync(group, csv.ToString());

        var all = await _client.AllRecipientsAsync(group, 10);

        Assert.Equal(123, all.Count);
        Assert.Equal(123, all.Select(r => r.GetProperty("id").GetString()).Distinct().Count());
        Assert.All(all, r => Assert.StartsWith("rcp_", r.GetProperty("id").GetString(), StringComparison.Ordinal));
        var found = await _client.AllRecipientsAsync(group, 3, "+1201555001");
        Assert.Equal(10, found.Count);
        Assert.All(found, r => Assert.StartsWith("+1201555001", r.GetProperty("address").GetString(), StringComparison.Ordinal));
        var bad = await _client.GetAsync($"/v1/Groups/{group}/Recipients?search=abc&pageSize=5000");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var error = await bad.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, error.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public async Task Export_streams_the_group_as_csv_with_formula_like_cells_escaped_and_unicode_kept()
    {
        var group = await _client.CreateGroupAsync("Export");
        await _client.ImportAsync(group, "phone,name,note\n2015550121,Zoë 東京,=HYPERLINK(\"http://x\")\n2015550122,@Bob,-5\n");

        var response = await _client.GetAsync($"/v1/Groups/{group}/Export");

        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var lines = text.TrimEnd().Split("\r\n");
        Assert.Equal("address,channel,name,note", lines[0]);
        Assert.Equal("'+12015550121,PHONE,Zoë 東京,\"'=HYPERLINK(\"\"http://x\"\")\"", lines[1]);
        Assert.Equal("'+12015550122,PHONE,'@Bob,'-5", lines[2]);
    }

    [Fact]
    public async Task A_file_that_is_not_csv_fails_at_once_and_adds_nothing()
    {
        var group = await _client.CreateGroupAsync("Not CSV");
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52];

        var binary = await _client.PostAsync($"/v1/Groups/{group}/Imports", new ByteArrayContent(png) { Headers = { ContentType = new MediaTypeHeaderValue("text/csv") } });
        var image = await _client.PostAsync($"/v1/Groups/{group}/Imports", new ByteArrayContent(png) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } });
        var noAddress = await _client.PostCsvAsync(group, "name,city\nAnn,Paris\n");
        var empty = await _client.PostCsvAsync(group, "");

        Assert.Equal(HttpStatusCode.BadRequest, binary.StatusCode);
        Assert.Contains("not a CSV", (await binary.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, image.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noAddress.StatusCode);
        Assert.Contains("No address column", (await noAddress.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Empty(await _client.AllRecipientsAsync(group, 10));
    }

    [Fact]
    public async Task Bad_import_options_are_all_listed_in_one_answer()
    {
        var group = await _client.CreateGroupAsync("Options");

        var response = await _client.PostCsvAsync(group, "phone\n2015550123\n", "?mode=merge&defaultRegion=XX");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var fields = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString());
        Assert.Equal(["mode", "defaultRegion"], fields);
    }

    [Fact]
    public async Task A_multipart_upload_with_a_file_part_is_imported_and_the_chosen_columns_are_used()
    {
        var group = await _client.CreateGroupAsync("Multipart");
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes("name;cell_no;via\nAnn;07911 123456;rcs\n"));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", "people.csv");

        var response = await _client.PostAsync($"/v1/Groups/{group}/Imports?addressColumn=cell_no&channelColumn=via&defaultRegion=GB", form);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var import = await _client.WaitForImportAsync(response.Headers.Location!);
        Assert.Equal("COMPLETED", import.GetProperty("status").GetString());
        var recipient = Assert.Single(await _client.AllRecipientsAsync(group, 10));
        Assert.Equal("+447911123456", recipient.GetProperty("address").GetString());
        Assert.Equal("RCS", recipient.GetProperty("channel").GetString());
        Assert.Equal(["name"], recipient.GetProperty("variables").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Groups_can_be_listed_renamed_and_deleted_with_their_recipients()
    {
        var group = await _client.CreateGroupAsync("To delete");
        await _client.ImportAsync(group, "phone\n2015550131\n");

        var renamed = await _client.PatchAsJsonAsync($"/v1/Groups/{group}", new { name = "Renamed" });
        Assert.Equal("Renamed", (await renamed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
        var list = await _client.GetFromJsonAsync<JsonElement>("/v1/Groups?pageSize=1000");
        Assert.Contains(list.GetProperty("groups").EnumerateArray(), g => g.GetProperty("id").GetString() == group);
        var invalid = await _client.PostAsJsonAsync("/v1/Groups", new { name = "" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/v1/Groups/{group}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/v1/Groups/{group}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/v1/Groups/{group}/Recipients")).StatusCode);
    }
}

/// <summary>An app with small limits, so the limits can be crossed in a test.</summary>
public sealed class SmallLimitsAppFactory : AppFactory
{
    public SmallLimitsAppFactory()
    {
        Settings["Limits:MaxGroupRecipients"] = "3";
        Settings["Limits:MaxUploadBytes"] = "4096";
    }
}

public sealed class ImportLimitsTests(SmallLimitsAppFactory app) : IClassFixture<SmallLimitsAppFactory>
{
    private readonly HttpClient _client = app.CreateApiClient();

    [Fact]
    public async Task An_import_that_would_pass_the_group_limit_adds_nothing_and_says_so()
    {
        var group = await _client.CreateGroupAsync("Limited");
        await _client.ImportAsync(group, "phone\n2015550141\n2015550142\n");

        var import = await _client.ImportAsync(group, "phone\n2015550141\n2015550143\n2015550144\n");

        Assert.Equal("FAILED", import.GetProperty("status").GetString());
        Assert.Contains("past the limit of 3", import.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("nothing was added", import.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, import.GetProperty("imported").GetInt64());
        Assert.Equal(2, (await _client.AllRecipientsAsync(group, 10)).Count);
        Assert.Equal(2, (await _client.GetFromJsonAsync<JsonElement>($"/v1/Groups/{group}")).GetProperty("recipientCount").GetInt64());
    }

    [Fact]
    public async Task A_file_larger_than_the_upload_limit_is_refused_with_413_in_the_error_format()
    {
        var group = await _client.CreateGroupAsync("Big file");
        var csv = "phone,padding\n" + string.Concat(Enumerable.Repeat("2015550151," + new string('x', 90) + "\n", 100));

        var response = await _client.PostCsvAsync(group, csv);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(413, error.GetProperty("status").GetInt32());
        Assert.Equal(20413, error.GetProperty("code").GetInt32());
        Assert.Empty(await _client.AllRecipientsAsync(group, 10));
    }

    [Fact]
    public async Task A_chunked_upload_without_a_length_is_stopped_at_the_limit_too()
    {
        var group = await _client.CreateGroupAsync("Chunked");
        var bytes = Encoding.UTF8.GetBytes("phone\n" + string.Concat(Enumerable.Repeat("2015550161\n", 800)));
        var content = new StreamContent(new MemoryStream(bytes));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        content.Headers.ContentLength = null;
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/Groups/{group}/Imports") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }
}
