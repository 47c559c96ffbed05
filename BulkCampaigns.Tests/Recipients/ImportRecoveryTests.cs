using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Data;
using BulkCampaigns.Recipients;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BulkCampaigns.Tests.Recipients;

/// <summary>
/// An import cut off by a crash is PROCESSING in the database while Hangfire.InMemory has forgotten it.
/// These tests put the database in that state and run the start-up step.
/// </summary>
/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
public sealed class ImportRecoveryTests(AppFactory app) : ImportRecoveryTests<AppFactory>(app);

/// <summary>On PostgreSQL, through the PostgreSQL engine store's import statements.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class ImportRecoveryTestsOnPostgres(PostgresImportsApp app) : ImportRecoveryTests<PostgresImportsApp>(app);

public abstract class ImportRecoveryTests<TApp>(TApp app) : IClassFixture<TApp>
    where TApp : AppFactory
{
    private readonly HttpClient _client = app.CreateApiClient();

    private async Task<(string GroupId, long ImportKey)> LeftProcessingAsync(string? fileContent)
    {
        var groupId = await _client.CreateGroupAsync("Crashed " + Guid.NewGuid().ToString("N")[..6]);
        PublicId.TryDecode(PublicId.Group, groupId, out var groupKey);
        var options = app.Services.GetRequiredService<RecipientOptions>();
        Directory.CreateDirectory(options.UploadFolder);
        var stored = Guid.NewGuid().ToString("N") + ".csv";
        if (fileContent is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(options.UploadFolder, stored), fileContent);
        }
        var factory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        var import = new Import
        {
            // Received by this node, as ImportService writes it.
            GroupId = groupKey, DefaultRegion = "US", StoredFile = stored, NodeName = app.Services.GetRequiredService<BulkCampaigns.Dispatch.CurrentNode>().Name, Bytes = fileContent?.Length ?? 0, Attempts = 1,
            RowsRead = 123, CreatedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow,
        };
        db.Add(import);
        await db.SaveChangesAsync();
        return (groupId, import.Id);
    }

    private async Task<JsonElement> RestartAndWaitAsync(string groupId, long importKey)
    {
        var recovery = app.Services.GetServices<IHostedService>().OfType<ImportRecovery>().Single();
        await recovery.StartAsync(CancellationToken.None);
        var location = new Uri($"/v1/Groups/{groupId}/Imports/{PublicId.Encode(PublicId.Import, importKey)}", UriKind.Relative);
        return await _client.WaitForImportAsync(location);
    }

    [Fact]
    public async Task An_import_left_processing_is_resumed_from_its_stored_file_at_start()
    {
        var (groupId, importKey) = await LeftProcessingAsync("phone,name\n2015550201,Ann\n2015550202,Bob\n");

        var import = await RestartAndWaitAsync(groupId, importKey);

        Assert.Equal("COMPLETED", import.GetProperty("status").GetString());
        Assert.Equal(2, import.GetProperty("rowsRead").GetInt64());
        Assert.Equal(2, (await _client.GetFromJsonAsync<JsonElement>($"/v1/Groups/{groupId}")).GetProperty("recipientCount").GetInt64());
    }

    [Fact]
    public async Task An_import_whose_file_is_gone_fails_cleanly_with_a_message_and_adds_nothing()
    {
        var (groupId, importKey) = await LeftProcessingAsync(null);

        var import = await RestartAndWaitAsync(groupId, importKey);

        Assert.Equal("FAILED", import.GetProperty("status").GetString());
        Assert.Contains("Upload it again", import.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(await _client.AllRecipientsAsync(groupId, 10));
    }

    [Fact]
    public async Task A_resumed_import_lists_each_merged_row_once_not_again_beside_what_the_cut_off_attempt_stored()
    {
        var (groupId, importKey) = await LeftProcessingAsync("phone,name\n2015550301,Ann\n+1 201 555 0301,Ann B\n");
        // The cut-off attempt had stored its progress, the merged row among it, before the crash.
        var factory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            db.Add(new ImportDuplicate { ImportId = importKey, Row = 2, Line = 3, Address = "+12015550301", FirstRow = 1 });
            await db.SaveChangesAsync();
        }

        var import = await RestartAndWaitAsync(groupId, importKey);

        Assert.Equal("COMPLETED", import.GetProperty("status").GetString());
        Assert.Equal(1, import.GetProperty("duplicates").GetInt64());
        var report = await _client.GetStringAsync($"/v1/Groups/{groupId}/Imports/{PublicId.Encode(PublicId.Import, importKey)}/Duplicates");
        Assert.Equal(["address,row,line,merged_with_row", "'+12015550301,2,3,1"], report.Trim('\uFEFF').Split(["\r\n", "\n"], StringSplitOptions.RemoveEmptyEntries));
    }
}
