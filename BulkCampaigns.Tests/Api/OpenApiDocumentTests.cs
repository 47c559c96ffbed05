using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Api;

public sealed partial class OpenApiDocumentTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task Every_v1_route_is_in_the_openapi_document_with_its_answers_their_schemas_and_basic_auth()
    {
        var doc = await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = doc.GetProperty("paths");
        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/v1", StringComparison.Ordinal) == true && !e.RoutePattern.RawText.Contains("**", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (Path: Normalize(e.RoutePattern.RawText!), Method: m.ToLowerInvariant())))
            .Distinct()
            .ToList();

        Assert.NotEmpty(routes);
        foreach (var (path, method) in routes)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{method.ToUpperInvariant()} {path} is missing from the OpenAPI document");
            Assert.True(item.TryGetProperty(method, out var operation), $"{method.ToUpperInvariant()} {path} is missing from the OpenAPI document");
            var responses = operation.GetProperty("responses");
            Assert.True(responses.TryGetProperty("401", out _), $"{method.ToUpperInvariant()} {path} does not list its 401 answer");
            Assert.True(responses.TryGetProperty("400", out _), $"{method.ToUpperInvariant()} {path} does not list its 400 answer");
            var success = responses.EnumerateObject().Where(r => r.Name.StartsWith('2')).ToList();
            Assert.True(success.Count > 0, $"{method.ToUpperInvariant()} {path} does not say what it answers on success");
            foreach (var answer in success.Where(r => r.Name is "200" or "201"))
            {
                Assert.True(answer.Value.TryGetProperty("content", out var content) && content.EnumerateObject().All(c => c.Value.TryGetProperty("schema", out _)),
                    $"{method.ToUpperInvariant()} {path} answers {answer.Name} without a schema");
            }
        }
        var send = paths.GetProperty("/v1/Messages").GetProperty("post");
        Assert.True(send.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _), "POST /v1/Messages describes its body");
        Assert.True(send.GetProperty("responses").TryGetProperty("202", out _));
        Assert.True(send.GetProperty("responses").TryGetProperty("413", out _));
        Assert.Equal("basic", doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("basic").GetProperty("scheme").GetString());
        Assert.True(doc.GetProperty("components").GetProperty("schemas").TryGetProperty("ApiError", out _), "the error format is described");
    }

    private async Task<JsonElement> DocumentAsync() => await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");

    private static IEnumerable<(string Path, string Method, JsonElement Operation)> Operations(JsonElement doc) =>
        doc.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject().Select(m => (p.Name, m.Name, m.Value)));

    private static JsonElement Operation(JsonElement doc, string path, string method) => doc.GetProperty("paths").GetProperty(path).GetProperty(method);

    private static JsonElement Component(JsonElement doc, JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference)
            ? doc.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1])
            : schema;

    private static Dictionary<string, JsonElement> QueryParameters(JsonElement operation) =>
        operation.TryGetProperty("parameters", out var parameters)
            ? parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query").ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("schema"))
            : [];

    [Fact]
    public async Task Every_list_declares_its_paging_and_filters_as_typed_query_parameters()
    {
        var doc = await DocumentAsync();
        var lists = 0;
        foreach (var (path, method, operation) in Operations(doc))
        {
            if (!operation.GetProperty("responses").TryGetProperty("200", out var ok) || !ok.TryGetProperty("content", out var content) ||
                !content.TryGetProperty("application/json", out var json) || !Component(doc, json.GetProperty("schema")).TryGetProperty("properties", out var properties) ||
                !properties.TryGetProperty("pagination", out _))
            {
                continue;
            }
            lists++;
            var query = QueryParameters(operation);
            Assert.True(query.TryGetValue("pageSize", out var pageSize), $"{method} {path} does not declare pageSize");
            Assert.Equal("integer", pageSize.GetProperty("type").GetString());
            Assert.Equal(1, pageSize.GetProperty("minimum").GetInt32());
            Assert.Equal(1000, pageSize.GetProperty("maximum").GetInt32());
            Assert.True(query.TryGetValue("pageToken", out var pageToken), $"{method} {path} does not declare pageToken");
            Assert.Equal("string", pageToken.GetProperty("type").GetString());
        }
        Assert.Equal(10, lists); // content, groups, recipients, suppressions, senders, messages, operations, simulator, segments, segment recipients

        var messages = QueryParameters(Operation(doc, "/v1/Messages", "get"));
        Assert.Subset(messages.Keys.ToHashSet(), new HashSet<string> { "operationId", "status", "address" });
        Assert.Contains("DELIVERED", messages["status"].GetProperty("enum").EnumerateArray().Select(v => v.GetString()));
        Assert.Subset(QueryParameters(Operation(doc, "/v1/Groups/{id}/Recipients", "get")).Keys.ToHashSet(), new HashSet<string> { "search", "variable", "full" });
        var import = QueryParameters(Operation(doc, "/v1/Groups/{id}/Imports", "post"));
        Assert.Subset(import.Keys.ToHashSet(), new HashSet<string> { "mode", "defaultRegion", "addressColumn", "channelColumn" });
        Assert.Equal(["upsert", "append", "replace"], import["mode"].GetProperty("enum").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task A_senders_mps_is_an_integer_in_its_create_and_update_bodies()
    {
        var doc = await DocumentAsync();
        foreach (var (path, method) in new[] { ("/v1/Senders", "post"), ("/v1/Senders/{id}", "patch") })
        {
            var body = Component(doc, Operation(doc, path, method).GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
            var mps = body.GetProperty("properties").GetProperty("mps");
            Assert.Equal("integer", mps.GetProperty("type").GetString());
            Assert.Equal(1, mps.GetProperty("minimum").GetInt32());
        }
    }

    [Fact]
    public async Task An_import_takes_the_CSV_as_a_binary_body_or_as_the_binary_file_part_of_a_multipart_body()
    {
        var doc = await DocumentAsync();
        var content = Operation(doc, "/v1/Groups/{id}/Imports", "post").GetProperty("requestBody").GetProperty("content");
        var csv = content.GetProperty("text/csv").GetProperty("schema");
        Assert.Equal(("string", "binary"), (csv.GetProperty("type").GetString(), csv.GetProperty("format").GetString()));
        var multipart = content.GetProperty("multipart/form-data").GetProperty("schema");
        Assert.Equal("object", multipart.GetProperty("type").GetString());
        Assert.Equal(["file"], multipart.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("binary", multipart.GetProperty("properties").GetProperty("file").GetProperty("format").GetString());
        var suppressions = Operation(doc, "/v1/Suppressions/Imports", "post").GetProperty("requestBody").GetProperty("content");
        Assert.Equal("binary", suppressions.GetProperty("text/csv").GetProperty("schema").GetProperty("format").GetString());
    }

    [Fact]
    public async Task Every_operation_has_a_unique_operationId_and_a_summary()
    {
        var doc = await DocumentAsync();
        var ids = new List<string>();
        foreach (var (path, method, operation) in Operations(doc))
        {
            Assert.True(operation.TryGetProperty("operationId", out var id) && id.GetString() is { Length: > 0 }, $"{method} {path} has no operationId");
            Assert.True(operation.TryGetProperty("summary", out var summary) && summary.GetString() is { Length: > 0 }, $"{method} {path} has no summary");
            ids.Add(id.GetString()!);
        }
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal("SendMessages", Operation(doc, "/v1/Messages", "post").GetProperty("operationId").GetString());
    }

    [Fact]
    public async Task The_202_of_a_send_declares_its_operationId_and_Location_headers()
    {
        var doc = await DocumentAsync();
        var headers = Operation(doc, "/v1/Messages", "post").GetProperty("responses").GetProperty("202").GetProperty("headers");
        Assert.Equal("string", headers.GetProperty("operationId").GetProperty("schema").GetProperty("type").GetString());
        Assert.Equal("string", headers.GetProperty("Location").GetProperty("schema").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Numbers_are_typed_as_numbers_never_also_as_strings()
    {
        var doc = await DocumentAsync();
        var mixed = new List<string>();
        void Walk(JsonElement element, string at)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                if (element.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.Array)
                {
                    var types = type.EnumerateArray().Select(t => t.GetString()).ToList();
                    if (types.Contains("string") && (types.Contains("integer") || types.Contains("number")))
                    {
                        mixed.Add(at);
                    }
                }
                foreach (var property in element.EnumerateObject())
                {
                    Walk(property.Value, $"{at}/{property.Name}");
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, $"{at}/{i++}");
                }
            }
        }
        Walk(doc, "#");
        Assert.Empty(mixed);
        var stats = doc.GetProperty("components").GetProperty("schemas").GetProperty("OperationStats").GetProperty("properties").GetProperty("total");
        Assert.Equal("integer", stats.GetProperty("type").GetString());
        Assert.False(stats.TryGetProperty("pattern", out _));
    }

    [Fact]
    public async Task The_send_body_is_a_named_schema_that_requires_only_from_to_and_content()
    {
        var doc = await DocumentAsync();
        var schema = Operation(doc, "/v1/Messages", "post").GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        Assert.Equal("#/components/schemas/SendMessagesBody", schema.GetProperty("$ref").GetString());
        var body = Component(doc, schema);
        Assert.Equal(["from", "to", "content"], body.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("#/components/schemas/MessageContent", body.GetProperty("properties").GetProperty("content").GetProperty("$ref").GetString());
        var to = Component(doc, body.GetProperty("properties").GetProperty("to").GetProperty("items"));
        Assert.False(to.TryGetProperty("required", out _), "an inline recipient has no groupId and a group has no address: neither is required on its own");
        var pace = Component(doc, body.GetProperty("properties").GetProperty("pace"));
        Assert.False(pace.TryGetProperty("required", out _));
    }

    [Fact]
    public async Task Only_the_v1_API_is_described_and_its_server_is_relative()
    {
        var doc = await DocumentAsync();
        var outside = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).Where(p => !p.StartsWith("/v1/", StringComparison.Ordinal) && p != "/v1").ToList();
        Assert.Empty(outside);
        Assert.Equal("/", Assert.Single(doc.GetProperty("servers").EnumerateArray()).GetProperty("url").GetString());
    }

    // "/v1/Groups/{id:long}/" → "/v1/Groups/{id}"
    private static string Normalize(string pattern) => RouteConstraint().Replace(pattern, "}").TrimEnd('/');

    [GeneratedRegex(":[^}]+}")]
    private static partial Regex RouteConstraint();
}
