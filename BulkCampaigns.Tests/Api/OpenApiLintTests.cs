using System.Diagnostics;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Api;

/// <summary>The document passes Redocly's recommended rules, as a user's API tooling would check it.</summary>
// The document is built from the endpoints, the same on either database: once is enough.
[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class OpenApiLintTests(AppFactory app) : IClassFixture<AppFactory>
{
    public const string RedoclyCli = "@redocly/cli@2.77.0";

    [Fact]
    public async Task The_openapi_document_passes_Redoclys_recommended_lint_without_errors()
    {
        var folder = Directory.CreateTempSubdirectory("bulkcampaigns-openapi-lint");
        try
        {
            var file = Path.Combine(folder.FullName, "v1.json");
            await File.WriteAllTextAsync(file, await app.CreateClient().GetStringAsync("/openapi/v1.json"));
            var (exit, output) = await RunAsync("npx", ["--yes", RedoclyCli, "lint", "--extends", "recommended", "--format", "stylish", file], folder.FullName);
            Assert.True(exit == 0, $"Redocly's recommended lint found errors in the OpenAPI document:\n{output}");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>Runs a command; a missing command fails the test with what to install instead of skipping it.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(string command, IEnumerable<string> arguments, string workingDirectory, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(command)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["NO_UPDATE_NOTIFIER"] = "1";
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        // Kiota would ask GitHub for a newer release; the test machine reaches no such host.
        start.Environment["KIOTA_UPDATE_DISABLED"] = "true";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{command} did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Assert.Fail($"'{command}' could not be run ({ex.Message}). Install it: node and npm (Debian's nodejs and npm packages, which .ci/run installs) for npx; `dotnet tool restore` for kiota.");
            throw;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"{command} {string.Join(' ', start.ArgumentList)} did not finish in time.\n{await stdout}\n{await stderr}");
            }
            return (process.ExitCode, $"{await stdout}\n{await stderr}");
        }
    }
}
