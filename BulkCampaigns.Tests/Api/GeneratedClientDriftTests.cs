using System.Runtime.CompilerServices;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Api;

/// <summary>
/// Api/Client is what Kiota generates from the app's own document today, so <see cref="GeneratedClientTests"/> drives
/// the client an integrator would get. When the document changes, regenerate it: run this test with
/// <c>BULKCAMPAIGNS_UPDATE_CLIENT=1</c> (docs/api.md: The OpenAPI document).
/// </summary>
// The document is built from the endpoints, the same on either database: once is enough.
[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class GeneratedClientDriftTests(AppFactory app) : IClassFixture<AppFactory>
{
    public const string KiotaNamespace = "BulkCampaigns.Tests.Api.Client";
    public const string KiotaClientName = "BulkCampaignsApiClient";

    [Fact]
    public async Task The_checked_in_Kiota_client_is_the_one_the_current_document_generates()
    {
        var checkedIn = Path.Combine(SourceFolder(), "Client");
        var work = Directory.CreateTempSubdirectory("bulkcampaigns-kiota");
        try
        {
            var document = Path.Combine(work.FullName, "v1.json");
            await File.WriteAllTextAsync(document, await app.CreateClient().GetStringAsync("/openapi/v1.json"));
            var output = Path.Combine(work.FullName, "Client");
            var (exit, log) = await OpenApiLintTests.RunAsync("dotnet",
                ["tool", "run", "kiota", "generate", "--language", "CSharp", "--openapi", document, "--output", output,
                 "--class-name", KiotaClientName, "--namespace-name", KiotaNamespace, "--exclude-backward-compatible", "--clean-output", "--log-level", "Warning"],
                RepositoryRoot());
            Assert.True(exit == 0, $"Kiota could not generate a client from the document (run `dotnet tool restore` if kiota is missing):\n{log}");

            var generated = CodeFiles(output);
            if (Environment.GetEnvironmentVariable("BULKCAMPAIGNS_UPDATE_CLIENT") == "1")
            {
                Directory.Delete(checkedIn, recursive: true);
                foreach (var (path, text) in generated)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(checkedIn, path))!);
                    await File.WriteAllTextAsync(Path.Combine(checkedIn, path), text);
                }
            }
            var expected = CodeFiles(checkedIn);
            Assert.True(expected.Keys.Order(StringComparer.Ordinal).SequenceEqual(generated.Keys.Order(StringComparer.Ordinal)),
                $"The document now generates other files than Api/Client holds (added: {string.Join(", ", generated.Keys.Except(expected.Keys))}; gone: {string.Join(", ", expected.Keys.Except(generated.Keys))}). " +
                "Run this test with BULKCAMPAIGNS_UPDATE_CLIENT=1 to regenerate it.");
            var changed = generated.Where(g => expected[g.Key] != g.Value).Select(g => g.Key).ToList();
            Assert.True(changed.Count == 0, $"The document generates a different client than Api/Client holds ({string.Join(", ", changed)}). Run this test with BULKCAMPAIGNS_UPDATE_CLIENT=1 to regenerate it.");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static Dictionary<string, string> CodeFiles(string folder) =>
        Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace('\\', '/'), f => File.ReadAllText(f).ReplaceLineEndings("\n"));

    private static string SourceFolder([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    private static string RepositoryRoot() => Path.GetFullPath(Path.Combine(SourceFolder(), "..", ".."));
}
