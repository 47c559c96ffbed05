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

    // "/v1/Groups/{id:long}/" → "/v1/Groups/{id}"
    private static string Normalize(string pattern) => RouteConstraint().Replace(pattern, "}").TrimEnd('/');

    [GeneratedRegex(":[^}]+}")]
    private static partial Regex RouteConstraint();
}
