using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Data;
using BulkCampaigns.Recipients;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Content;

public class ContentApiTests(AppFactory app) : IClassFixture<AppFactory>
{
    private readonly HttpClient _api = app.CreateApiClient();

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    private static string[] ErrorFields(JsonElement error) =>
        error.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()!).ToArray();

    [Fact]
    public async Task A_template_is_created_read_listed_updated_and_deleted()
    {
        var created = await _api.PostAsJsonAsync("/v1/Content", new { name = "Spring promo", content = new { text = "Hi {{first_name | default: 'there'}}!", media = new[] { "https://example.com/a.jpg" } } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await JsonAsync(created);
        var id = body.GetProperty("id").GetString()!;
        Assert.StartsWith("cnt_", id, StringComparison.Ordinal);
        Assert.Equal($"/v1/Content/{id}", created.Headers.Location!.ToString());
        Assert.Equal(["MMS"], body.GetProperty("channels").EnumerateArray().Select(c => c.GetString()!));
        Assert.False(body.GetProperty("content").TryGetProperty("contentId", out _), "absent fields are left out");

        var read = await JsonAsync(await _api.GetAsync($"/v1/Content/{id}"));
        Assert.Equal("Hi {{first_name | default: 'there'}}!", read.GetProperty("content").GetProperty("text").GetString());

        var updated = await _api.PutAsJsonAsync($"/v1/Content/{id}", new
        {
            name = "Spring promo v2",
            content = new
            {
                modules = new object[]
                {
                    new { rcs = new { richCard = new { title = "Hi {{first_name}}", description = "20% off", suggestions = new[] { new { type = "URL", title = "Shop", url = "https://example.com" } } } } },
                    new { sms = new { text = "Hi {{first_name}}, 20% off" } },
                },
            },
        });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(["RCS", "SMS"], (await JsonAsync(updated)).GetProperty("channels").EnumerateArray().Select(c => c.GetString()!));

        var list = await JsonAsync(await _api.GetAsync("/v1/Content"));
        Assert.Contains(list.GetProperty("content").EnumerateArray(), t => t.GetProperty("id").GetString() == id && t.GetProperty("name").GetString() == "Spring promo v2");

        Assert.Equal(HttpStatusCode.NoContent, (await _api.DeleteAsync($"/v1/Content/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync($"/v1/Content/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _api.DeleteAsync($"/v1/Content/{id}")).StatusCode);
    }

    [Fact]
    public async Task A_bad_update_changes_nothing_and_unknown_ids_are_404()
    {
        var created = await JsonAsync(await _api.PostAsJsonAsync("/v1/Content", new { name = "Keep me", content = new { text = "Hi {{ n }}" } }));
        var id = created.GetProperty("id").GetString()!;

        var bad = await _api.PutAsJsonAsync($"/v1/Content/{id}", new { name = "Changed", content = new { text = "Hi {{ n " } });

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("line 1, column", (await JsonAsync(bad)).GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("Keep me", (await JsonAsync(await _api.GetAsync($"/v1/Content/{id}"))).GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync("/v1/Content/cnt_nope")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _api.PutAsJsonAsync("/v1/Content/grp_0000000000000", new { name = "x", content = new { text = "x" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().GetAsync($"/v1/Content/{id}")).StatusCode);
    }

    [Fact]
    public async Task A_template_can_not_point_to_another_template()
    {
        var response = await _api.PostAsJsonAsync("/v1/Content", new { name = "Pointer", content = new { contentId = "cnt_0000000000000" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["content.contentId"], ErrorFields(await JsonAsync(response)));
    }

    [Fact]
    public async Task Following_next_lists_every_template_once()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var created = await JsonAsync(await _api.PostAsJsonAsync("/v1/Content", new { name = $"Paged {i}", content = new { text = "t" } }));
            ids.Add(created.GetProperty("id").GetString()!);
        }
        var seen = new List<string>();
        string? next = "/v1/Content?pageSize=2";
        while (next is not null)
        {
            var page = await JsonAsync(await _api.GetAsync(next));
            seen.AddRange(page.GetProperty("content").EnumerateArray().Select(t => t.GetProperty("id").GetString()!));
            Assert.True(page.GetProperty("content").GetArrayLength() <= 2);
            next = page.GetProperty("pagination").GetProperty("next").GetString();
        }
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Subset(seen.ToHashSet(), ids.ToHashSet());
    }

    [Fact]
    public async Task Every_bad_field_is_listed_in_one_400_and_nothing_is_created()
    {
        var before = (await JsonAsync(await _api.GetAsync("/v1/Content?pageSize=1000"))).GetProperty("content").GetArrayLength();

        var response = await _api.PostAsJsonAsync("/v1/Content", new
        {
            name = "",
            content = new
            {
                modules = new object[]
                {
                    new
                    {
                        rcs = new
                        {
                            richCard = new
                            {
                                title = "T",
                                media = new[] { "not a url" },
                                suggestions = Enumerable.Range(0, 5).Select(i => new { type = "REPLY", title = "Option " + i }).ToArray(),
                            },
                        },
                    },
                    new { sms = new { text = "" } },
                },
            },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await JsonAsync(response);
        Assert.Equal(20001, error.GetProperty("code").GetInt32());
        string[] expected = ["content.modules[0].rcs.richCard.media[0]", "content.modules[0].rcs.richCard.suggestions", "content.modules[1].sms.text", "name"];
        Assert.Equal(expected, ErrorFields(error).Order(StringComparer.Ordinal));
        var after = (await JsonAsync(await _api.GetAsync("/v1/Content?pageSize=1000"))).GetProperty("content").GetArrayLength();
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task A_liquid_error_is_a_400_whose_message_names_line_and_column()
    {
        var response = await _api.PostAsJsonAsync("/v1/Content/Preview", new { content = new { text = "Hello\nHi {{ name " }, variables = new { name = "Ana" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await JsonAsync(response);
        Assert.Contains("line 2, column", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(["content.text"], ErrorFields(error));
    }

    [Fact]
    public async Task A_template_that_loops_without_end_is_refused_rather_than_rendered()
    {
        var response = await _api.PostAsJsonAsync("/v1/Content/Preview", new { content = new { text = "{% for i in (1..1000) %}{% for j in (1..1000) %}x{% endfor %}{% endfor %}" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("steps", (await JsonAsync(response)).GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preview_renders_inline_variables_and_counts_segments_exactly()
    {
        var response = await _api.PostAsJsonAsync("/v1/Content/Preview", new
        {
            content = new { text = "Hi {{ name | upcase }} {{ missing }}{{ gone | default: '!' }} {{ address }}" },
            variables = new { name = "<script>" },
            address = "+15551230000",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var preview = await JsonAsync(response);
        Assert.Equal("Hi <SCRIPT> ! +15551230000", preview.GetProperty("text").GetString());
        Assert.Equal("GSM-7", preview.GetProperty("encoding").GetString());
        Assert.Equal(1, preview.GetProperty("segments").GetInt32());
        Assert.Equal(26, preview.GetProperty("characters").GetInt32());
        Assert.Equal(["missing"], preview.GetProperty("unknownVariables").EnumerateArray().Select(v => v.GetString()!));
        Assert.NotEmpty(preview.GetProperty("warnings").EnumerateArray());
    }

    [Fact]
    public async Task Preview_counts_ucs2_and_names_the_characters_that_forced_it()
    {
        var preview = await JsonAsync(await _api.PostAsJsonAsync("/v1/Content/Preview", new { content = new { text = new string('a', 70) + "😀" }, variables = new { } }));

        Assert.Equal("UCS-2", preview.GetProperty("encoding").GetString());
        Assert.Equal(2, preview.GetProperty("segments").GetInt32());
        Assert.Equal(["😀"], preview.GetProperty("ucs2Characters").EnumerateArray().Select(v => v.GetString()!));
    }

    [Fact]
    public async Task Preview_uses_a_stored_recipient_and_warns_about_placeholders_its_group_lacks()
    {
        var (groupId, recipientId) = await SeedGroupAsync();

        var preview = await JsonAsync(await _api.PostAsJsonAsync("/v1/Content/Preview", new
        {
            content = new { text = "Hi {{ first_name }} from {{ city }}, {{ tier | default: 'member' }}" },
            groupId = PublicId.Encode(PublicId.Group, groupId),
            recipientId = PublicId.Encode(PublicId.Recipient, recipientId),
        }));

        Assert.Equal("Hi Zoë from , member", preview.GetProperty("text").GetString());
        Assert.Equal(["city"], preview.GetProperty("unknownVariables").EnumerateArray().Select(v => v.GetString()!));
    }

    [Fact]
    public async Task Preview_of_a_stored_template_by_content_id_renders_each_channel()
    {
        var created = await JsonAsync(await _api.PostAsJsonAsync("/v1/Content", new
        {
            name = "Card",
            content = new { modules = new object[] { new { whatsapp = new { richCard = new { title = "Hi {{ n }}", description = "Sale" } } }, new { sms = new { text = "Hi {{ n }}, sale" } } } },
        }));

        var preview = await JsonAsync(await _api.PostAsJsonAsync("/v1/Content/Preview", new { content = new { contentId = created.GetProperty("id").GetString() }, variables = new { n = "Bo" } }));

        Assert.Equal("Hi Bo, sale", preview.GetProperty("text").GetString());
        var channels = preview.GetProperty("channels").EnumerateArray().ToList();
        Assert.Equal("WHATSAPP", channels[0].GetProperty("channel").GetString());
        Assert.Equal("Hi Bo", channels[0].GetProperty("title").GetString());
    }

    [Fact]
    public async Task A_read_only_key_may_preview_but_not_write()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var keys = scope.ServiceProvider.GetRequiredService<BulkCampaigns.Auth.ApiKeyService>();
        var key = await keys.CreateAsync("viewer", BulkCampaigns.Auth.Roles.Viewer);
        var viewer = app.CreateApiClient(key.Sid, key.Secret);

        var write = await viewer.PostAsJsonAsync("/v1/Content", new { name = "x", content = new { text = "x" } });
        var preview = await viewer.PostAsJsonAsync("/v1/Content/Preview", new { content = new { text = "x" } });

        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        Assert.Equal(HttpStatusCode.OK, preview.StatusCode);
    }

    [Fact]
    public async Task The_wizard_can_ask_which_placeholders_a_group_lacks_for_a_stored_template()
    {
        var (groupId, _) = await SeedGroupAsync();
        var service = app.Services.GetRequiredService<BulkCampaigns.Content.ContentService>();
        var saved = await service.CreateAsync("For wizard", BulkCampaigns.Content.MessageContent.FromText("{{ first_name }} {{ city }} {{ zip | default: '-' }} {{ address }}"));

        var unknown = await service.UnknownVariablesAsync(new BulkCampaigns.Content.MessageContent { ContentId = saved.Template!.PublicId }, groupId);

        Assert.Equal(["city"], unknown);
    }

    private async Task<(long GroupId, long RecipientId)> SeedGroupAsync()
    {
        var factory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        var group = new Group { Name = "Seeded " + Guid.NewGuid().ToString("N")[..6], AttributeKeysJson = "[\"first_name\",\"tier\"]", RecipientCount = 1 };
        db.Add(group);
        await db.SaveChangesAsync();
        var recipient = new Recipient { GroupId = group.Id, Address = "+15550001111", Channel = "PHONE", VariablesJson = "{\"first_name\":\"Zoë\",\"tier\":\"\"}" };
        db.Add(recipient);
        await db.SaveChangesAsync();
        return (group.Id, recipient.Id);
    }
}
