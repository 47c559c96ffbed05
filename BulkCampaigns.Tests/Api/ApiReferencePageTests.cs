using System.Net;
using System.Text.RegularExpressions;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Api;

public sealed partial class ApiReferencePageTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task The_interactive_API_reference_is_served_at_docs_api_without_sign_in_with_its_script_from_the_app()
    {
        var client = app.CreateClient();

        var page = await client.GetAsync("/docs/api");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        // The page resolves this against the app's base path: /openapi/v1.json, the document the app serves.
        Assert.Contains("\"url\":\"openapi/v1.json\"", html, StringComparison.Ordinal);
        // Only this API's reference: Scalar's AI chat, MCP, client and developer-tools buttons are off, and it reports nothing.
        foreach (var setting in new[] { "\"agent\":{\"disabled\":true}", "\"mcp\":{\"disabled\":true}", "\"hideClientButton\":true", "\"showDeveloperTools\":\"never\"", "\"telemetry\":false" })
        {
            Assert.Contains(setting, html, StringComparison.Ordinal);
        }
        var scripts = ScriptSource().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        foreach (var src in scripts)
        {
            Assert.False(src.StartsWith("http", StringComparison.OrdinalIgnoreCase), $"{src} is loaded from another site");
            var script = await client.GetAsync(new Uri(page.RequestMessage!.RequestUri!, src));
            Assert.True(script.StatusCode == HttpStatusCode.OK, $"{src}: {script.StatusCode}");
        }
    }

    [GeneratedRegex("<script[^>]*src=\"([^\"]+)\"")]
    private static partial Regex ScriptSource();
}
