using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Recipients;

/// <summary>What a contact file brings (vanity numbers, duplicates, odd shapes, the app's own export) through the API.</summary>
/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
public sealed class ImportShapeTests(AppFactory app) : ImportShapeTests<AppFactory>(app);

/// <summary>On PostgreSQL, through the PostgreSQL engine store's import statements.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class ImportShapeTestsOnPostgres(PostgresImportsApp app) : ImportShapeTests<PostgresImportsApp>(app);

public abstract class ImportShapeTests<TApp>(TApp app) : IClassFixture<TApp>
    where TApp : AppFactory
{
    private readonly HttpClient _client = app.CreateApiClient();

    private async Task<JsonElement> GroupAsync(string group) => await _client.GetFromJsonAsync<JsonElement>($"/v1/Groups/{group}");

    private static List<string?> Keys(JsonElement group) => group.GetProperty("attributeKeys").EnumerateArray().Select(k => k.GetString()).ToList();

    [Fact]
    public async Task A_number_written_with_letters_is_a_rejected_row_and_does_not_merge_people_into_one()
    {
        var group = await _client.CreateGroupAsync("Vanity");
        var csv = "Mobile Number,First Name\n" +
                  "+1 201 555 CALL,Ann\n" +
                  "+1 201 555 2255,Bob\n" +
                  "201-555-CALL,Cy\n";

        var import = await _client.ImportAsync(group, csv);

        Assert.Equal("COMPLETED", import.GetProperty("status").GetString());
        Assert.Equal(1, import.GetProperty("imported").GetInt64());
        Assert.Equal(0, import.GetProperty("duplicates").GetInt64());
        var errors = import.GetProperty("errors").EnumerateArray().ToList();
        Assert.Equal([1, 3], errors.Select(e => e.GetProperty("row").GetInt32()));
        Assert.All(errors, e => Assert.StartsWith("written with letters", e.GetProperty("reason").GetString(), StringComparison.Ordinal));
        var bob = Assert.Single(await _client.AllRecipientsAsync(group, 10));
        Assert.Equal("Bob", bob.GetProperty("variables").GetProperty("First Name").GetString());
    }

    [Fact]
    public async Task The_import_summary_says_duplicate_row_and_recipient_for_one()
    {
        var group = await _client.CreateGroupAsync("One of each");
        var csv = "Mobile Number,First Name\n" +
                  "+1 201 555 2255,Bob\n" +
                  "(201) 555-2255,Bob again\n" +
                  "+1 201 555 CALL,Ann\n";

        var import = await _client.ImportAsync(group, csv);

        Assert.Equal("1 added, 0 updated, 1 duplicate merged, 1 row rejected. The group now has 1 recipient.", import.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Merged_duplicates_are_listed_with_the_row_they_were_merged_with_and_downloadable_as_csv()
    {
        var group = await _client.CreateGroupAsync("Duplicates");
        var csv = "phone,name\n" +
                  "2015550101,Ann\n" +
                  "2015550102,Bob\n" +
                  "+1 (201) 555-0101,Ann again\n" +
                  "201.555.0102,Bob again\n" +
                  "12015550101,Ann thrice\n";

        var import = await _client.ImportAsync(group, csv);

        Assert.Equal(3, import.GetProperty("duplicates").GetInt64());
        var url = import.GetProperty("duplicatesReportUrl").GetString()!;
        Assert.EndsWith($"/Imports/{import.GetProperty("id").GetString()}/Duplicates", url, StringComparison.Ordinal);
        var response = await _client.GetAsync(url);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        var lines = Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3).TrimEnd().Split("\r\n");
        Assert.Equal(["address,row,line,merged_with_row", "'+12015550101,3,4,1", "'+12015550102,4,5,2", "'+12015550101,5,6,1"], lines);
        var missing = await _client.GetAsync($"/v1/Groups/{group}/Imports/imp_nope/Duplicates");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task A_file_with_more_columns_than_the_limit_is_refused_at_once_and_adds_nothing()
    {
        var group = await _client.CreateGroupAsync("Wide");
        var header = "phone," + string.Join(",", Enumerable.Range(1, 600).Select(i => "c" + i));
        var row = "2015550101," + string.Join(",", Enumerable.Range(1, 600).Select(i => "v"));

        var response = await _client.PostCsvAsync(group, header + "\n" + row + "\n");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString();
        Assert.Contains("601 columns, more than the limit of 500", message, StringComparison.Ordinal);
        var after = await GroupAsync(group);
        Assert.Empty(Keys(after));
        Assert.Equal(0, after.GetProperty("recipientCount").GetInt64());
    }

    [Fact]
    public async Task A_header_longer_than_the_first_64_KB_is_read_whole()
    {
        var group = await _client.CreateGroupAsync("Long header");
        // Long names (272 KB of header): cut at 64 KB, the last name read "ccc…12" and was taken for column 12 named twice.
        var names = Enumerable.Range(1, 498).Select(i => (string?)(new string('c', 543) + i)).ToList();
        var csv = "phone," + string.Join(",", names) + "\n" + "2015550101," + string.Join(",", names.Select((_, i) => "v" + i)) + "\n";

        var import = await _client.ImportAsync(group, csv);

        Assert.Equal("COMPLETED", import.GetProperty("status").GetString());
        Assert.Equal(names, Keys(await GroupAsync(group)));
    }

    [Fact]
    public async Task A_cell_longer_than_the_limit_rejects_its_row_with_the_limit_named_and_in_the_header_refuses_the_file()
    {
        var group = await _client.CreateGroupAsync("Long cell");
        var csv = "phone,notes\n2015550101,short\n2015550102," + new string('x', 10_001) + "\n";

        var import = await _client.ImportAsync(group, csv);

        Assert.Equal(1, import.GetProperty("imported").GetInt64());
        var error = Assert.Single(import.GetProperty("errors").EnumerateArray());
        Assert.Equal(2, error.GetProperty("row").GetInt32());
        Assert.Equal("notes", error.GetProperty("column").GetString());
        Assert.Contains("10,001 characters long, more than the limit of 10,000", error.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.True(error.GetProperty("value").GetString()!.Length <= 101);

        var header = await _client.PostCsvAsync(group, "phone," + new string('n', 10_001) + "\n2015550103,x\n");
        Assert.Equal(HttpStatusCode.BadRequest, header.StatusCode);
        Assert.Contains("more than the limit of 10,000", (await header.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_quote_left_open_to_the_end_of_the_file_fails_the_import_with_its_line_and_adds_nothing()
    {
        var group = await _client.CreateGroupAsync("Open quote");
        var csv = "phone,name\n2015550101,Ann\n2015550102,Bob\n2015550103,\"Cy\n2015550104,Di\n2015550105,Ed\n";

        var import = await _client.ImportAsync(group, csv);

        Assert.Equal("FAILED", import.GetProperty("status").GetString());
        Assert.Contains("ends inside a quoted field that starts on line 4", import.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await GroupAsync(group)).GetProperty("recipientCount").GetInt64());
    }

    [Fact]
    public async Task An_import_that_would_give_the_group_more_variables_than_the_limit_fails_adding_nothing()
    {
        var group = await _client.CreateGroupAsync("Many variables");
        var first = "phone," + string.Join(",", Enumerable.Range(1, 300).Select(i => "a" + i)) + "\n2015550101" + new string(',', 300) + "\n";
        var second = "phone," + string.Join(",", Enumerable.Range(1, 300).Select(i => "b" + i)) + "\n2015550102" + new string(',', 300) + "\n";
        Assert.Equal("COMPLETED", (await _client.ImportAsync(group, first)).GetProperty("status").GetString());

        var import = await _client.ImportAsync(group, second);

        Assert.Equal("FAILED", import.GetProperty("status").GetString());
        Assert.Contains("600 variables", import.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("limit of 500", import.GetProperty("message").GetString(), StringComparison.Ordinal);
        var after = await GroupAsync(group);
        Assert.Equal(300, Keys(after).Count);
        Assert.Equal(1, after.GetProperty("recipientCount").GetInt64());
        // replace drops the group's variables first, so the same file goes in
        Assert.Equal("COMPLETED", (await _client.ImportAsync(group, second, "?mode=replace")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_variable_no_recipient_has_any_more_leaves_the_group_and_one_some_still_have_stays()
    {
        var group = await _client.CreateGroupAsync("Keys");
        await _client.ImportAsync(group, "phone,name,plan\n2015550101,Ann,gold\n2015550102,Bob,silver\n");

        // upsert: both rows are updated without plan, so no one has it any more
        await _client.ImportAsync(group, "phone,name,city\n2015550101,Ann,Paris\n2015550102,Bob,Rome\n");
        Assert.Equal(["name", "city"], Keys(await GroupAsync(group)));

        // append: the existing rows keep city, the new one has only name
        await _client.ImportAsync(group, "phone,name\n2015550103,Cy\n", "?mode=append");
        Assert.Equal(["name", "city"], Keys(await GroupAsync(group)));

        await _client.ImportAsync(group, "phone,tier\n2015550104,1\n", "?mode=replace");
        Assert.Equal(["tier"], Keys(await GroupAsync(group)));
    }

    [Fact]
    public async Task An_export_imports_back_into_a_new_group_as_it_was_byte_for_byte()
    {
        var source = await _client.CreateGroupAsync("Round trip source");
        var csv = "phone,via,First Name,formula,note,plain\n" +
                  "2015550101,rcs,Zoë 東京,=2+2,\"two\nlines, and \"\"quotes\"\"\",'quoted\n" +
                  "2015550102,whatsapp,@Bob,'=already,-5,  spaced  \n" +
                  "2015550103,sms,مرحبا,+1,'''=x,\t\n";
        await _client.ImportAsync(source, csv, "?channelColumn=via");
        var exported = await _client.GetByteArrayAsync($"/v1/Groups/{source}/Export");
        Assert.Equal([0xEF, 0xBB, 0xBF], exported[..3]);

        var copy = await _client.CreateGroupAsync("Round trip copy");
        var response = await _client.PostAsync($"/v1/Groups/{copy}/Imports", new ByteArrayContent(exported) { Headers = { ContentType = new("text/csv") } });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var import = await _client.WaitForImportAsync(response.Headers.Location!);

        Assert.Equal("COMPLETED", import.GetProperty("status").GetString());
        Assert.Equal(0, import.GetProperty("rejected").GetInt64());
        Assert.Equal(Keys(await GroupAsync(source)), Keys(await GroupAsync(copy)));
        var before = await _client.AllRecipientsAsync(source, 50);
        var after = await _client.AllRecipientsAsync(copy, 50);
        Assert.Equal(before.Select(Describe), after.Select(Describe));
        Assert.Equal("=2+2", before[0].GetProperty("variables").GetProperty("formula").GetString());
        Assert.Equal(["RCS", "WHATSAPP", "PHONE"], after.Select(r => r.GetProperty("channel").GetString()));
        Assert.Equal(exported, await _client.GetByteArrayAsync($"/v1/Groups/{copy}/Export"));
    }

    private static string Describe(JsonElement r) =>
        r.GetProperty("address").GetString() + "|" + r.GetProperty("channel").GetString() + "|" + r.GetProperty("variables").GetRawText();

    [Fact]
    public async Task Recipients_are_found_by_a_variables_value_and_an_unknown_variable_is_a_clear_400()
    {
        var group = await _client.CreateGroupAsync("Search by name");
        await _client.ImportAsync(group, "phone,First Name,city\n2015550101,Zoë,Paris\n2015550102,Bob,Zoetermeer\n2015550103,zoey,Rome\n2015550104,Ann,Oslo\n");

        var byName = await _client.AllRecipientsAsync(group, 1, "zo", "First Name");
        var byNumber = await _client.AllRecipientsAsync(group, 10, "+1201555010");
        var unknown = await _client.GetAsync($"/v1/Groups/{group}/Recipients?search=zo&variable=surname");

        Assert.Equal(["+12015550101", "+12015550103"], byName.Select(r => r.GetProperty("address").GetString()));
        Assert.Equal(4, byNumber.Count);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        var error = Assert.Single((await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray());
        Assert.Equal("variable", error.GetProperty("field").GetString());
        Assert.Contains("First Name, city", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_long_value_is_sent_cut_in_the_recipients_list_unless_the_whole_is_asked_for()
    {
        var group = await _client.CreateGroupAsync("Long values");
        var note = string.Concat(Enumerable.Repeat("0123456789", 900));
        await _client.ImportAsync(group, $"phone,note\n2015550101,{note}\n");

        var cut = await _client.GetFromJsonAsync<JsonElement>($"/v1/Groups/{group}/Recipients");
        var full = await _client.GetFromJsonAsync<JsonElement>($"/v1/Groups/{group}/Recipients?full=true");

        var shown = cut.GetProperty("recipients")[0].GetProperty("variables").GetProperty("note").GetString()!;
        Assert.Equal(note[..500] + "…", shown);
        Assert.Equal(note, full.GetProperty("recipients")[0].GetProperty("variables").GetProperty("note").GetString());
    }
}

/// <summary>An app whose cells and columns are small, so a record past its bound is cheap to send.</summary>
public sealed class NarrowLimitsAppFactory : AppFactory
{
    public NarrowLimitsAppFactory()
    {
        Settings["Limits:MaxColumns"] = "10";
        Settings["Limits:MaxCellChars"] = "100";
    }
}

public sealed class RecordLimitTests(NarrowLimitsAppFactory app) : IClassFixture<NarrowLimitsAppFactory>
{
    private readonly HttpClient _client = app.CreateApiClient();

    [Fact]
    public async Task A_record_larger_than_every_cell_at_its_limit_stops_the_file_before_it_is_held_whole()
    {
        var group = await _client.CreateGroupAsync("Huge cell");
        // 3 MB in one cell: past the record bound (1 MB here), so it is never read into memory or stored.
        var csv = "phone,notes\n2015550101,short\n2015550102," + new string('x', 3 * 1024 * 1024) + "\n2015550103,after\n";

        var import = await _client.ImportAsync(group, csv);

        Assert.Equal("FAILED", import.GetProperty("status").GetString());
        Assert.Contains("longer than 1 MB", import.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await _client.GetFromJsonAsync<JsonElement>($"/v1/Groups/{group}")).GetProperty("recipientCount").GetInt64());
    }
}
