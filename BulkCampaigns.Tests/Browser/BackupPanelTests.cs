using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

[Trait(DatabaseTrait.Name, DatabaseTrait.SqliteOnly)]
[Collection(BrowserCollection.Name)]
public sealed class BackupPanelTests(BrowserApp browser)
{
    [Fact]
    public async Task An_admin_downloads_a_backup_from_Settings_and_it_opens_as_the_database()
    {
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/settings");
        await session.WaitForInteractiveAsync();
        await page.GetByRole(AriaRole.Tab, new() { Name = "Backup" }).ClickAsync();

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("download-backup").ClickAsync());

        Assert.EndsWith(".db", download.SuggestedFilename, StringComparison.Ordinal);
        var file = Path.Combine(Path.GetTempPath(), "bulkcampaigns-tests", $"panel-{Guid.NewGuid():N}.db");
        try
        {
            await download.SaveAsAsync(file);
            await using (var copy = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False"))
            {
                await copy.OpenAsync();
                await using var command = copy.CreateCommand();
                command.CommandText = "SELECT COUNT(*) FROM AspNetUsers WHERE Email = $email";
                command.Parameters.AddWithValue("$email", AppFactory.AdminEmail);
                Assert.Equal(1L, await command.ExecuteScalarAsync());
            }
            Assert.Empty(session.ConsoleErrors);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
