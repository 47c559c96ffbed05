using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Campaigns;
using BulkCampaigns.Data;
using BulkCampaigns.Operations;
using BulkCampaigns.Recipients;
using BulkCampaigns.Senders;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Postgres;

/// <summary>
/// Sign-in, the pages and the API around the engine on PostgreSQL: groups and their recipients (searched, paged,
/// exported), suppressions, content, audience counts and the campaign list's case-insensitive order and search.
/// Recipients are written straight into the tables: importing is the engine's, on PostgreSQL in its second phase.
/// </summary>
public sealed class PostgresPagesTests(PostgresAppFactory app) : IClassFixture<PostgresAppFactory>
{
    [Theory]
    [InlineData("/")]
    [InlineData("/recipients")]
    [InlineData("/suppressions")]
    [InlineData("/content")]
    [InlineData("/campaigns")]
    [InlineData("/settings")]
    public async Task A_signed_in_admin_opens_the_page(string path)
    {
        var client = await app.SignedInClientAsync(AppFactory.AdminEmail, AppFactory.AdminPassword);

        var page = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task The_backup_download_points_to_pg_dump_instead_of_failing()
    {
        var client = await app.SignedInClientAsync(AppFactory.AdminEmail, AppFactory.AdminPassword);

        var download = await client.GetAsync("/settings/backup");

        Assert.Equal(HttpStatusCode.Conflict, download.StatusCode);
        Assert.Contains("pg_dump", await download.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_group_s_recipients_are_listed_searched_paged_and_exported()
    {
        var api = app.CreateApiClient();
        var created = await api.PostAsJsonAsync("/v1/Groups", new { name = "Spring on PostgreSQL" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var groupId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.True(PublicId.TryDecode(PublicId.Group, groupId, out var id));
        await AddRecipientsAsync(id, ("+12015550101", "Zoë"), ("+12015550102", "ANNA"), ("+13125550103", "Ben"), ("+12015550104", "joanna"));

        var byNumber = await api.GetFromJsonAsync<JsonElement>($"/v1/Groups/{groupId}/Recipients?search=1201555");
        var byName = await api.GetFromJsonAsync<JsonElement>($"/v1/Groups/{groupId}/Recipients?variable=First%20Name&search=ann");
        var firstPage = await api.GetFromJsonAsync<JsonElement>($"/v1/Groups/{groupId}/Recipients?pageSize=2");
        var secondPage = await api.GetFromJsonAsync<JsonElement>(firstPage.GetProperty("pagination").GetProperty("next").GetString()!);
        var export = await api.GetStringAsync($"/v1/Groups/{groupId}/Export");

        Assert.Equal(["+12015550101", "+12015550102", "+12015550104"], Addresses(byNumber));
        Assert.Equal(["+12015550102", "+12015550104"], Addresses(byName)); // letter case ignored
        Assert.Equal(["+12015550101", "+12015550102"], Addresses(firstPage));
        Assert.Equal(["+12015550104", "+13125550103"], Addresses(secondPage));
        Assert.Contains("+12015550101,sms,Zoë", export, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Suppressions_added_one_by_one_and_from_a_file_count_in_the_audience()
    {
        var api = app.CreateApiClient();
        var one = await AddGroupAsync("Audience A", ("+14155550101", "a"), ("+14155550102", "b"));
        var two = await AddGroupAsync("Audience B", ("+14155550102", "b"), ("+14155550103", "c"));
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsJsonAsync("/v1/Suppressions", new { address = "+14155550103" })).StatusCode);
        var import = await api.PostAsync("/v1/Suppressions/Imports", new StringContent("phone,reason\n+14155550101,asked\n+14155550103,again\nnot a number,x\n", System.Text.Encoding.UTF8, "text/csv"));
        var summary = await import.Content.ReadFromJsonAsync<JsonElement>();

        var counter = app.Services.GetRequiredService<AudienceCounter>();
        var both = await counter.CountAsync([PublicId.Encode(PublicId.Group, one), PublicId.Encode(PublicId.Group, two)]);
        var single = await counter.CountAsync([PublicId.Encode(PublicId.Group, one)]);

        Assert.Equal(HttpStatusCode.OK, import.StatusCode);
        Assert.Equal(1, summary.GetProperty("added").GetInt64());
        Assert.Equal(1, summary.GetProperty("alreadySuppressed").GetInt64());
        Assert.Equal(new AudienceCount(4, 1, 2), both);
        Assert.Equal(new AudienceCount(2, 0, 1), single);
    }

    [Fact]
    public async Task Content_is_created_listed_and_read_back()
    {
        var api = app.CreateApiClient();
        var created = await api.PostAsJsonAsync("/v1/Content", new { name = "Zoë's promo", content = new { text = "Hi {{ first_name }}" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var read = await api.GetFromJsonAsync<JsonElement>($"/v1/Content/{id}");

        Assert.Equal("Zoë's promo", read.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Campaigns_sort_by_name_regardless_of_case_and_search_ignores_case()
    {
        await AddOperationsAsync("gamma PG", "Alpha PG", "beta PG", "Delta PG");
        var queries = app.Services.GetRequiredService<CampaignQueries>();

        var first = await queries.CampaignsAsync(new CampaignFilter(Search: "pg", Sort: CampaignSort.Name, Descending: false), 2, null);
        var second = await queries.CampaignsAsync(new CampaignFilter(Search: "pg", Sort: CampaignSort.Name, Descending: false), 2, first.Next);
        var search = await queries.CampaignsAsync(new CampaignFilter(Search: "BETA"), 10, null);

        Assert.Equal(["Alpha PG", "beta PG", "Delta PG", "gamma PG"], first.Rows.Concat(second.Rows).Select(r => r.Name));
        Assert.Equal(["beta PG"], search.Rows.Select(r => r.Name));
    }

    private static List<string> Addresses(JsonElement page) =>
        page.GetProperty("recipients").EnumerateArray().Select(r => r.GetProperty("address").GetString()!).ToList();

    private async Task<long> AddGroupAsync(string name, params (string Address, string Name)[] rows)
    {
        var created = await app.CreateApiClient().PostAsJsonAsync("/v1/Groups", new { name });
        Assert.True(PublicId.TryDecode(PublicId.Group, (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!, out var id));
        await AddRecipientsAsync(id, rows);
        return id;
    }

    private async Task AddRecipientsAsync(long groupId, params (string Address, string Name)[] rows)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var now = DateTimeOffset.UtcNow;
        db.AddRange(rows.Select(r => new Recipient
        {
            GroupId = groupId, Address = r.Address, Channel = "sms", CreatedAt = now,
            VariablesJson = JsonSerializer.Serialize(new Dictionary<string, string> { ["First Name"] = r.Name }),
        }));
        var group = await db.Set<Group>().SingleAsync(g => g.Id == groupId);
        group.RecipientCount += rows.Length;
        group.AttributeKeysJson = """["First Name"]""";
        await db.SaveChangesAsync();
    }

    private async Task AddOperationsAsync(params string[] names)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var sender = new Sender { Address = "+12015550000", Channel = "sms", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow };
        db.Add(sender);
        await db.SaveChangesAsync();
        var now = DateTimeOffset.UtcNow;
        db.AddRange(names.Select(n => new Operation
        {
            Name = n, Status = OperationStatus.Completed, SenderId = sender.Id, FromAddress = sender.Address, FromChannel = "sms",
            ContentJson = "{}", CreatedAt = now, UpdatedAt = now,
        }));
        await db.SaveChangesAsync();
    }
}
