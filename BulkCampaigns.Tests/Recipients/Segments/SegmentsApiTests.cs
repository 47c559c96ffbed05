using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using BulkCampaigns.Tests.Recipients;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Recipients.Segments;

/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
public sealed class SegmentsApiTests(ExactSimulatorApp app) : SegmentsApiTests<ExactSimulatorApp>(app);

/// <summary>On PostgreSQL: the jsonb side table, and a segment's messages made by the PostgreSQL engine store.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class SegmentsApiTestsOnPostgres(PostgresExactSimulatorApp app) : SegmentsApiTests<PostgresExactSimulatorApp>(app);

/// <summary><c>/v1/Segments</c> as docs/api.md shapes it, and segments as the audience of <c>POST /v1/Messages</c>.</summary>
public abstract class SegmentsApiTests<TApp>(TApp app) : IClassFixture<TApp>
    where TApp : AppFactory
{
    private readonly HttpClient _client = app.CreateApiClient();

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<string> PlansGroupAsync(string name)
    {
        var group = await _client.CreateGroupAsync(name);
        var import = await _client.ImportAsync(group, "phone,plan,age,signup\n" +
            "2015550201,Pro,34,2026-01-10\n" +
            "2015550202,ÅLESUND,51,2025-05-01\n" +
            "2015550203,free,n/a,2026-02-01\n" +
            "2015550204,PRO,29,not a date\n" +
            "2015550205,gold,40,2026-01-31T08:00:00Z\n");
        Assert.Equal(5, import.GetProperty("imported").GetInt64());
        return group;
    }

    [Fact]
    public async Task A_segment_is_saved_with_its_count_read_back_listed_replaced_and_deleted()
    {
        var group = await PlansGroupAsync("Api segments");
        var body = $$$"""
            {"name": "Pro or Ålesund, 30 to 60", "groupIds": ["{{{group}}}"],
             "filter": {"all": [{"variable": "plan", "op": "in", "value": ["pro", "ålesund"]},
                                {"variable": "age", "op": "between", "value": [30, 60]}]}}
            """;

        var created = await _client.PostAsync("/v1/Segments", Json(body));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var segment = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = segment.GetProperty("id").GetString()!;
        Assert.StartsWith("seg_", id, StringComparison.Ordinal);
        Assert.Equal($"/v1/Segments/{id}", created.Headers.Location!.ToString());
        Assert.Equal(2, segment.GetProperty("recipientCount").GetInt64());
        Assert.Equal([group], segment.GetProperty("groupIds").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal("ålesund", segment.GetProperty("filter").GetProperty("all")[0].GetProperty("value")[1].GetString());

        var read = await _client.GetFromJsonAsync<JsonElement>($"/v1/Segments/{id}");
        Assert.Equal("Pro or Ålesund, 30 to 60", read.GetProperty("name").GetString());
        var list = await _client.GetFromJsonAsync<JsonElement>("/v1/Segments?pageSize=1000");
        Assert.Contains(list.GetProperty("segments").EnumerateArray(), s => s.GetProperty("id").GetString() == id);
        var members = await _client.GetFromJsonAsync<JsonElement>($"/v1/Segments/{id}/Recipients");
        Assert.Equal(["+12015550201", "+12015550202"], members.GetProperty("recipients").EnumerateArray().Select(r => r.GetProperty("address").GetString()).Order());

        var replaced = await _client.PutAsync($"/v1/Segments/{id}", Json($$$"""{"name": "Dated", "groupIds": ["{{{group}}}"], "filter": {"variable": "signup", "op": "after", "value": "2026-01-01"}}"""));
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal(3, (await replaced.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("recipientCount").GetInt64());

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/v1/Segments/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/v1/Segments/{id}")).StatusCode);
    }

    [Fact]
    public async Task Count_gives_distinct_addresses_with_the_suppressed_ones_counted_apart()
    {
        var a = await PlansGroupAsync("Count A");
        var b = await PlansGroupAsync("Count B");
        await _client.PostAsJsonAsync("/v1/Suppressions", new { address = "+12015550201", reason = "STOP" });

        var response = await _client.PostAsync("/v1/Segments/Count", Json($$$"""{"groupIds": ["{{{a}}}", "{{{b}}}"], "filter": {"variable": "plan", "op": "eq", "value": "pro"}}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var count = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, count.GetProperty("recipientCount").GetInt64());
        Assert.Equal(1, count.GetProperty("suppressed").GetInt64());
        await _client.DeleteAsync("/v1/Suppressions/%2B12015550201");
    }

    [Fact]
    public async Task Every_bad_part_of_a_filter_is_a_400_naming_its_path_and_nothing_is_saved()
    {
        var group = await PlansGroupAsync("Bad filters");
        var before = (await _client.GetFromJsonAsync<JsonElement>("/v1/Segments?pageSize=1000")).GetProperty("segments").GetArrayLength();
        var body = $$$"""
            {"name": "Broken", "groupIds": ["{{{group}}}", "grp_nope"],
             "filter": {"any": [{"variable": "plan", "op": "eq", "value": "pro"},
                                {"variable": "plan", "op": "like", "value": "p%"},
                                {"variable": "age", "op": "gt", "value": "thirty"},
                                {"variable": "Plan", "op": "exists"},
                                {"country": ["XX"]},
                                {"engagement": {"operationId": "comms_operation_nope", "event": "opened"}},
                                {"not": {"variable": "signup", "op": "between", "value": ["2026-02-01", "2026-01-01"]}}]}}
            """;

        var response = await _client.PostAsync("/v1/Segments", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(400, error.GetProperty("status").GetInt32());
        Assert.Equal(20001, error.GetProperty("code").GetInt32());
        var fields = error.GetProperty("errors").EnumerateArray().ToDictionary(e => e.GetProperty("field").GetString()!, e => e.GetProperty("message").GetString()!);
        Assert.Contains("groupIds[1]", fields.Keys);
        Assert.Contains("filter.any[1].op", fields.Keys);
        Assert.Equal("\"thirty\" is not a number; a number test (>, ≥, <, ≤, between) needs a number, such as 30.", fields["filter.any[2].value"]);
        Assert.Contains("filter.any[4].country[0]", fields.Keys);
        Assert.Contains("filter.any[5].engagement.operationId", fields.Keys);
        Assert.Contains("event is one of sent, delivered, failed, clicked, notClicked", fields["filter.any[5].engagement.event"], StringComparison.Ordinal);
        Assert.Equal("between: the first date must not be after the second.", fields["filter.any[6].not.value"]);
        var after = (await _client.GetFromJsonAsync<JsonElement>("/v1/Segments?pageSize=1000")).GetProperty("segments").GetArrayLength();
        Assert.Equal(before, after);

        // A variable no chosen group has is named too (once the filter's shape is right), with the likely one.
        var typo = await _client.PostAsync("/v1/Segments/Count", Json($$$"""{"groupIds": ["{{{group}}}"], "filter": {"all": [{"variable": "Plan", "op": "exists"}]}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, typo.StatusCode);
        var typoError = (await typo.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors")[0];
        Assert.Equal("filter.all[0].variable", typoError.GetProperty("field").GetString());
        Assert.Contains("'plan'", typoError.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_segment_is_evaluated_once_at_launch_and_cannot_be_deleted_while_its_operation_is_unfinished()
    {
        await CreateSenderAsync(_client, "+15551230018", 1000);
        var group = await PlansGroupAsync("Launch segment");
        var created = await _client.PostAsync("/v1/Segments", Json($$$"""{"name": "Pros", "groupIds": ["{{{group}}}"], "filter": {"variable": "plan", "op": "eq", "value": "PRO"}}"""));
        var segment = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ");

        var id = await SendAsync(_client, new
        {
            from = new { address = "+15551230018", channel = "SMS" },
            to = new object[] { new { segmentId = segment } },
            content = new { text = "Hi {{plan}}" },
            schedule = new { sendAt = new[] { sendAt } },
        });

        // Later imports change the group, not the scheduled operation made from it.
        await _client.ImportAsync(group, "phone,plan\n2015550209,pro\n");
        var op = await GetOperationAsync(_client, id);
        Assert.Equal(2, Stat(op, "total"));
        var conflict = await _client.DeleteAsync($"/v1/Segments/{segment}");
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal(20409, (await conflict.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetInt32());

        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/v1/Messages/Operations/{id}/Cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/v1/Segments/{segment}")).StatusCode);
    }

    [Fact]
    public async Task A_segment_launched_now_sends_exactly_its_recipients_and_engagement_finds_them_afterwards()
    {
        await CreateSenderAsync(_client, "+15551230019", 1000);
        var group = await PlansGroupAsync("Send segment");
        var created = await _client.PostAsync("/v1/Segments", Json($$$"""{"name": "Dated", "groupIds": ["{{{group}}}"], "filter": {"variable": "signup", "op": "before", "value": "2026-01-31"}}"""));
        var segment = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        // An unknown segment refuses the whole request, naming its item.
        var bad = await _client.PostAsJsonAsync("/v1/Messages", new { from = new { address = "+15551230019", channel = "SMS" }, to = new object[] { new { segmentId = segment }, new { segmentId = "seg_nope" } }, content = new { text = "Hi" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("to[1].segmentId", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors")[0].GetProperty("field").GetString());

        var id = await SendAsync(_client, new { from = new { address = "+15551230019", channel = "SMS" }, to = new object[] { new { segmentId = segment } }, content = new { text = "Hi" } });
        await WaitForAsync(_client, id, op => op.GetProperty("status").GetString() == "COMPLETED" && Stat(op, "delivered") == 2);
        var received = (await SimulatorMessagesAsync(_client, "&from=%2B15551230019")).Select(m => m.GetProperty("to").GetString()).Order();
        Assert.Equal(["+12015550201", "+12015550202"], received); // 2026-01-31T08:00 is that day, not before it

        var engaged = await _client.PostAsync("/v1/Segments/Count", Json($$$"""{"groupIds": ["{{{group}}}"], "filter": {"not": {"engagement": {"operationId": "{{{id}}}", "event": "delivered"} } } }"""));
        Assert.Equal(3, (await engaged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("recipientCount").GetInt64());
    }

    /// <summary>
    /// The group's folded rows (SQLite: its recipients with <c>Folded</c>; PostgreSQL: its rows in the side table), its
    /// recipients, those of them with folded variables, and its stamp rows.
    /// </summary>
    private async Task<(long Rows, long Recipients, long Matched, long Stamps)> SideTableAsync(string group)
    {
        return await QueryGroupAsync(group, IsSqlite
            ? """
              SELECT (SELECT COUNT(*) FROM Recipients WHERE GroupId = @g AND Folded IS NOT NULL),
                     (SELECT COUNT(*) FROM Recipients WHERE GroupId = @g),
                     (SELECT COUNT(*) FROM Recipients WHERE GroupId = @g AND json_valid(Folded, 8)),
                     (SELECT COUNT(*) FROM SegmentStamps WHERE GroupId = @g)
              """
            : """
              SELECT (SELECT COUNT(*) FROM "SegmentValues" WHERE "GroupId" = @g),
                     (SELECT COUNT(*) FROM "Recipients" WHERE "GroupId" = @g),
                     (SELECT COUNT(*) FROM "Recipients" r WHERE r."GroupId" = @g AND EXISTS (SELECT 1 FROM "SegmentValues" v WHERE v."RecipientId" = r."Id" AND v."GroupId" = @g)),
                     (SELECT COUNT(*) FROM "SegmentStamps" WHERE "GroupId" = @g)
              """);
    }

    private bool IsSqlite => !((BulkCampaigns.Data.DatabaseConnection)app.Services.GetService(typeof(BulkCampaigns.Data.DatabaseConnection))!).IsPostgres;

    /// <summary>Makes the group look as it did before its folded rows existed (a database from before the layout): no rows, no stamp.</summary>
    private async Task ForgetFoldedRowsAsync(string group) => await QueryGroupAsync(group, IsSqlite
        ? "UPDATE Recipients SET Folded = NULL WHERE GroupId = @g; DELETE FROM SegmentStamps WHERE GroupId = @g; SELECT 0, 0, 0, 0"
        : """DELETE FROM "SegmentValues" WHERE "GroupId" = @g; DELETE FROM "SegmentStamps" WHERE "GroupId" = @g; SELECT 0::bigint, 0::bigint, 0::bigint, 0::bigint""");

    private async Task<(long, long, long, long)> QueryGroupAsync(string group, string sql)
    {
        Assert.True(BulkCampaigns.Data.PublicId.TryDecode(BulkCampaigns.Data.PublicId.Group, group, out var id));
        var database = (BulkCampaigns.Data.DatabaseConnection)app.Services.GetService(typeof(BulkCampaigns.Data.DatabaseConnection))!;
        await using var connection = await database.OpenAnyAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@g";
        parameter.Value = id;
        command.Parameters.Add(parameter);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync() || await reader.NextResultAsync() && await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    /// <summary>The import builds the rows in its own transaction: once it is COMPLETED, every recipient has its row and nothing else does.</summary>
    private async Task<long> BuiltRowsAsync(string group)
    {
        var (rows, recipients, matched, stamps) = await SideTableAsync(group);
        Assert.True(rows == recipients && matched == recipients && stamps == 1,
            $"the import did not build the segment rows: {rows} rows, {recipients} recipients, {matched} matched, {stamps} stamps");
        return rows;
    }

    private async Task<long> CountAsync(string group, string filter)
    {
        var response = await _client.PostAsync("/v1/Segments/Count", Json($$$"""{"groupIds": ["{{{group}}}"], "filter": {{{filter}}}}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("recipientCount").GetInt64();
    }

    /// <summary>Each recipient's address and folded variables as JSON text, in address order.</summary>
    private async Task<List<string>> FoldedRowsAsync(string group)
    {
        Assert.True(BulkCampaigns.Data.PublicId.TryDecode(BulkCampaigns.Data.PublicId.Group, group, out var id));
        var database = (BulkCampaigns.Data.DatabaseConnection)app.Services.GetService(typeof(BulkCampaigns.Data.DatabaseConnection))!;
        await using var connection = await database.OpenAnyAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = IsSqlite
            ? "SELECT Address, json(Folded) FROM Recipients WHERE GroupId = @g ORDER BY Address"
            : """SELECT "Address", CAST("Folded" AS text) FROM "SegmentValues" WHERE "GroupId" = @g ORDER BY "Address" """;
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@g";
        parameter.Value = id;
        command.Parameters.Add(parameter);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0) + " " + (reader.IsDBNull(1) ? "NULL" : reader.GetString(1)));
        }
        return rows;
    }

    [Fact]
    public async Task The_fold_an_import_writes_with_its_rows_is_the_fold_a_rebuild_makes_for_every_kind_of_value()
    {
        var group = await _client.CreateGroupAsync("Fold written by the import");
        // Plain lower-case ASCII (kept as it is), capitals, letters of many scripts, a Kelvin sign and a long s, an
        // emoji, quotes and a backslash (escaped in the JSON), an empty value, numbers and dates.
        var import = await _client.ImportAsync(group, "phone,name,city,note\n" +
            "2015550301,anna,oslo,plain\n" +
            "2015550302,ZOË,ÅLESUND,Grüße\n" +
            "2015550303,Nguyễn Văn An,Hà Nội,李小龍\n" +
            "2015550304,\u212A\u017F,ΣΊΣΥΦΟΣ,😀 José\n" +
            "2015550305,\"O'Brien, \"\"Jr\"\"\",C:\\Path\\X,\n" +
            "2015550306,42,2026-01-31T08:00:00Z,-3.5e2\n");
        Assert.Equal(6, import.GetProperty("imported").GetInt64());
        var written = await FoldedRowsAsync(group);
        Assert.Equal(6, written.Count);
        Assert.DoesNotContain(written, row => row.EndsWith(" NULL", StringComparison.Ordinal));

        await ForgetFoldedRowsAsync(group);
        Assert.Equal(1, await CountAsync(group, """{"variable": "city", "op": "eq", "value": "ålesund"}"""));
        Assert.Equal(written, await FoldedRowsAsync(group));
    }

    [Fact]
    public async Task Each_import_builds_the_segment_rows_itself_and_upsert_append_replace_and_delete_keep_them_exact()
    {
        // No count asked for in between: the rows come from the import alone.
        var group = await PlansGroupAsync("Built at import");
        Assert.Equal(5, await BuiltRowsAsync(group));

        // Upsert: a changed value and a new recipient.
        await _client.ImportAsync(group, "phone,plan\n2015550203,PRO\n2015550206,Pro\n");
        Assert.Equal(6, await BuiltRowsAsync(group));
        Assert.Equal(4, await CountAsync(group, """{"variable": "plan", "op": "eq", "value": "pro"}"""));

        // Append: an existing address keeps its row as it was; a new one is added.
        await _client.ImportAsync(group, "phone,plan\n2015550201,free\n2015550207,pro\n", "?mode=append");
        Assert.Equal(7, await BuiltRowsAsync(group));
        Assert.Equal(5, await CountAsync(group, """{"variable": "plan", "op": "eq", "value": "pro"}"""));

        // Replace: the old recipients' rows go with them.
        await _client.ImportAsync(group, "phone,plan\n2015550299,ålesund\n", "?mode=replace");
        Assert.Equal(1, await BuiltRowsAsync(group));
        Assert.Equal(0, await CountAsync(group, """{"variable": "plan", "op": "eq", "value": "pro"}"""));
        Assert.Equal(1, await CountAsync(group, """{"variable": "plan", "op": "eq", "value": "ÅLESUND"}"""));

        // A group from before the folded rows (an older database): the first count folds it, and an append after that
        // leaves every recipient folded.
        await _client.ImportAsync(group, "phone,plan\n2015550298,Pro\n", "?mode=append");
        await ForgetFoldedRowsAsync(group);
        Assert.Equal((0, 2, 0, 0), await SideTableAsync(group));
        Assert.Equal(1, await CountAsync(group, """{"variable": "plan", "op": "eq", "value": "pRO"}"""));
        Assert.Equal(2, await BuiltRowsAsync(group));
        await ForgetFoldedRowsAsync(group);
        await _client.ImportAsync(group, "phone,plan\n2015550297,pro\n", "?mode=append");
        Assert.Equal(3, await BuiltRowsAsync(group));
        Assert.Equal(2, await CountAsync(group, """{"variable": "plan", "op": "eq", "value": "PRO"}"""));

        // Deleting the group deletes its rows and its stamp.
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/v1/Groups/{group}")).StatusCode);
        Assert.Equal((0, 0, 0, 0), await SideTableAsync(group));
    }
}
