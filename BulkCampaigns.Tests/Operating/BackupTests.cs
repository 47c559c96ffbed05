using System.Diagnostics;
using System.Net;
using BulkCampaigns.Auth;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Operating;

/// <summary>Settings → Backup: an Admin downloads a consistent copy of the database; nobody else can.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.SqliteOnly)]
public sealed class BackupDownloadTests(SqliteAppFactory app) : IClassFixture<SqliteAppFactory>, IDisposable
{
    private readonly string _copy = Path.Combine(Path.GetTempPath(), "bulkcampaigns-tests", $"download-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task An_admin_downloads_a_copy_of_the_database_that_opens_and_holds_the_data()
    {
        await InsertGroupAsync(app.Database.ConnectionString, [(Number(8700), "{}"), (Number(8701), "{}")], "Backed-up group");
        var admin = await app.SignedInClientAsync(AppFactory.AdminEmail, AppFactory.AdminPassword);

        var response = await admin.GetAsync("/settings/backup");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.sqlite3", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith(".db", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'), StringComparison.Ordinal);
        await File.WriteAllBytesAsync(_copy, await response.Content.ReadAsByteArrayAsync());
        await using var copy = new SqliteConnection($"Data Source={_copy};Mode=ReadOnly;Pooling=False");
        await copy.OpenAsync();
        Assert.Equal("ok", await ScalarAsync(copy, "PRAGMA integrity_check"));
        Assert.Equal(2L, await ScalarAsync(copy, "SELECT COUNT(*) FROM Recipients r JOIN Groups g ON g.Id = r.GroupId WHERE g.Name = 'Backed-up group'"));
    }

    [Fact]
    public async Task A_marketer_and_a_signed_out_visitor_get_no_copy()
    {
        var marketer = await (await app.SignedInAsAsync(Roles.Marketer)).GetAsync("/settings/backup");
        var anonymous = await app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).GetAsync("/settings/backup");
        var apiKey = await app.CreateApiClient().GetAsync("/settings/backup");

        foreach (var response in new[] { marketer, anonymous, apiKey })
        {
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
            Assert.NotEqual("application/vnd.sqlite3", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Contains("/login", anonymous.Headers.Location?.ToString(), StringComparison.Ordinal);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        File.Delete(_copy);
    }
}

/// <summary>
/// README, backup and restore: the backup command copies the database while a campaign sends; an app started on the
/// copy has everything, and the campaign finishes there with nothing sent twice relative to the copy's state.
/// </summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.SqliteOnly)]
public sealed class BackupRestoreTests(ITestOutputHelper output) : IDisposable
{
    private const int Recipients = 3_000;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "bulkcampaigns-tests", "backup-" + Guid.NewGuid().ToString("N"));

    private string DatabasePath => Path.Combine(_folder, "live", "app.db");
    private string BackupPath => Path.Combine(_folder, "restored", "app.db");

    [Fact]
    public async Task A_backup_taken_during_a_send_restores_into_a_fresh_app_that_finishes_the_campaign_sending_nothing_twice()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        string operationId;
        long receivedAtBackup;
        using (var live = AppProcess.Start(DatabasePath))
        {
            await live.WaitHealthyAsync();
            await CreateSenderAsync(live.Client, "+14155550144", 300);
            var group = await InsertGroupAsync($"Data Source={DatabasePath}",
                Enumerable.Range(0, Recipients).Select(i => (Number(i), $$"""{"n":"{{i}}"}""")), "Restored group");
            operationId = await SendAsync(live.Client, new
            {
                from = new { address = "+14155550144" },
                to = new[] { new { groupId = group } },
                content = new { text = "Hello #{{n}}" },
                name = "Backed up mid-send",
            });
            while (await AppProcess.CountAsync(DatabasePath, "SELECT COUNT(*) FROM SimulatorMessages") < Recipients / 5)
            {
                Assert.False(live.Process.HasExited, "the app stopped by itself");
                await Task.Delay(20);
            }

            var (exitCode, text) = await RunBackupCommandAsync(BackupPath);
            output.WriteLine(text);
            Assert.True(exitCode == 0, text);
            Assert.Contains("Backed up", text, StringComparison.Ordinal);
            Assert.False(live.Process.HasExited, "the backup must not disturb the running app");
            await live.KillAsync();
        }
        receivedAtBackup = await CountAsync("SELECT COUNT(*) FROM SimulatorMessages");
        output.WriteLine($"the copy holds {receivedAtBackup} messages received by the provider");
        Assert.InRange(receivedAtBackup, 1, Recipients - 1);
        Assert.Equal("ok", await TextAsync("PRAGMA integrity_check"));
        Assert.Equal(Recipients, await CountAsync("SELECT COUNT(*) FROM Recipients r JOIN Groups g ON g.Id = r.GroupId WHERE g.Name = 'Restored group'"));
        Assert.Equal(Recipients, await CountAsync("SELECT COUNT(*) FROM Messages"));
        Assert.Equal(Recipients, await CountAsync("""
            SELECT Scheduled + Queued + Sending + Sent + Delivered + Read + Undelivered + Unaddressable + Failed + Canceled + Suppressed
            FROM Operations WHERE Name = 'Backed up mid-send'
            """));
        // A message QUEUED inside a claimed range (a batch in flight) is counted as sending.
        const string InRange = "EXISTS (SELECT 1 FROM ClaimedBatches c WHERE c.OperationId = m.OperationId AND m.Id BETWEEN c.FromId AND c.ToId)";
        foreach (var status in Enumerable.Range(0, 11))
        {
            var rows = status switch
            {
                1 => $"SELECT COUNT(*) FROM Messages m WHERE Status = 1 AND NOT {InRange}",
                2 => $"SELECT COUNT(*) FROM Messages m WHERE Status = 2 OR (Status = 1 AND {InRange})",
                _ => $"SELECT COUNT(*) FROM Messages m WHERE Status = {status}",
            };
            Assert.Equal(await CountAsync(rows), await CountAsync($"""
                SELECT CASE {status} WHEN 0 THEN Scheduled WHEN 1 THEN Queued WHEN 2 THEN Sending WHEN 3 THEN Sent WHEN 4 THEN Delivered WHEN 5 THEN Read
                    WHEN 6 THEN Undelivered WHEN 7 THEN Unaddressable WHEN 8 THEN Failed WHEN 9 THEN Canceled ELSE Suppressed END FROM Operations
                """));
        }

        using var restored = AppProcess.Start(BackupPath);
        await restored.WaitHealthyAsync();
        var op = await WaitForStatusAsync(restored.Client, operationId, "COMPLETED", timeoutSeconds: 120);
        AssertStatsAddUp(op);
        Assert.Equal(0, Stat(op, "failed") + Stat(op, "queued") + Stat(op, "canceled"));
        Assert.Equal(Recipients, await CountAsync("SELECT COUNT(*) FROM SimulatorMessages"));
        Assert.Equal(Recipients, await CountAsync("SELECT COUNT(DISTINCT \"To\") FROM SimulatorMessages"));
        Assert.Equal(Recipients, Stat(op, "attempts"));
    }

    [Fact]
    public async Task The_backup_command_refuses_to_overwrite_a_file_and_says_why()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        Directory.CreateDirectory(Path.GetDirectoryName(BackupPath)!);
        await using (var db = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            await db.OpenAsync();
            await using var create = db.CreateCommand();
            create.CommandText = "CREATE TABLE T (X INTEGER)";
            await create.ExecuteNonQueryAsync();
        }
        await File.WriteAllTextAsync(BackupPath, "precious");

        var (exitCode, text) = await RunBackupCommandAsync(BackupPath);

        Assert.Equal(1, exitCode);
        Assert.Contains("already exists", text, StringComparison.Ordinal);
        Assert.Equal("precious", await File.ReadAllTextAsync(BackupPath));
    }

    /// <summary>Runs <c>BulkCampaigns backup FILE</c> as an operator would, on this test's database.</summary>
    private async Task<(int ExitCode, string Output)> RunBackupCommandAsync(string file)
    {
        var start = new ProcessStartInfo("dotnet", ["exec", Path.Combine(AppContext.BaseDirectory, "BulkCampaigns.dll"), "backup", file])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ConnectionStrings__BulkCampaigns"] = $"Data Source={DatabasePath}";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private Task<long> CountAsync(string sql) => AppProcess.CountAsync(BackupPath, sql);

    private async Task<string?> TextAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={BackupPath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (string?)await command.ExecuteScalarAsync();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
