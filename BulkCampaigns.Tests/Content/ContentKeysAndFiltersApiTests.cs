using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Data;
using BulkCampaigns.Recipients;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Content;

/// <summary>Every door refuses an unknown filter with a 400 naming the field and the filter; the preview reads "First Name" by its key.</summary>
public sealed class ContentKeysAndFiltersApiTests(AppFactory app) : IClassFixture<AppFactory>
{
    private readonly HttpClient _api = app.CreateApiClient();

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    private static void AssertRefusesTheFilter(HttpResponseMessage response, JsonElement error, string field)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var item = Assert.Single(error.GetProperty("errors").EnumerateArray());
        Assert.Equal(field, item.GetProperty("field").GetString());
        Assert.Contains("'defualt' at line 1, column 20", item.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preview_refuses_an_unknown_filter_naming_the_field_and_the_filter()
    {
        var response = await _api.PostAsJsonAsync("/v1/Content/Preview", new { content = new { text = "Hi {{ first_name | defualt: 'there' }}!" }, variables = new { } });

        var error = await JsonAsync(response);
        AssertRefusesTheFilter(response, error, "content.text");
        Assert.Contains("content.text", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_template_with_an_unknown_filter_is_not_saved()
    {
        var response = await _api.PostAsJsonAsync("/v1/Content", new
        {
            name = "Typo",
            content = new { modules = new object[] { new { sms = new { text = "Hi {{ first_name | defualt: 'there' }}!" } } } },
        });

        AssertRefusesTheFilter(response, await JsonAsync(response), "content.modules[0].sms.text");
    }

    [Fact]
    public async Task Post_messages_refuses_an_unknown_filter_naming_the_field_and_the_filter()
    {
        await _api.PostAsJsonAsync("/v1/Senders", new { address = "+14155550177", channel = "SMS", mps = 10 });

        var response = await _api.PostAsJsonAsync("/v1/Messages", new
        {
            from = new { address = "+14155550177", channel = "SMS" },
            to = new[] { new { address = "+12025550100" } },
            content = new { text = "Hi {{ first_name | defualt: 'there' }}!" },
        });

        AssertRefusesTheFilter(response, await JsonAsync(response), "content.text");
    }

    [Fact]
    public async Task Preview_of_a_recipient_with_a_first_name_column_reads_it_by_its_key_without_a_warning()
    {
        var factory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        var group = new Group { Name = "Contacts " + Guid.NewGuid().ToString("N")[..6], AttributeKeysJson = "[\"First Name\",\"last_name\",\"City\",\"Plan\",\"signup_date\"]", RecipientCount = 1 };
        db.Add(group);
        await db.SaveChangesAsync();
        db.Add(new Recipient { GroupId = group.Id, Address = "+15550002222", Channel = "PHONE", VariablesJson = "{\"First Name\":\"Ana\",\"last_name\":\"Silva\",\"City\":\"Lisbon\",\"Plan\":\"Gold\",\"signup_date\":\"2026-01-05\"}" });
        await db.SaveChangesAsync();

        var preview = await JsonAsync(await _api.PostAsJsonAsync("/v1/Content/Preview", new
        {
            content = new { text = "Hi {{ first_name }} {{ last_name }} of {{ city }}, {{ Plan }} since {{ signup_date }}" },
            groupId = PublicId.Encode(PublicId.Group, group.Id),
        }));

        Assert.Equal("Hi Ana Silva of Lisbon, Gold since 2026-01-05", preview.GetProperty("text").GetString());
        Assert.Empty(preview.GetProperty("unknownVariables").EnumerateArray());
    }
}
