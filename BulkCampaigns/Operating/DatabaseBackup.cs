using BulkCampaigns.Data;
using BulkCampaigns.Hosting;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Operating;

/// <summary>
/// A consistent copy of the embedded database, taken while the app runs: SQLite's <c>VACUUM INTO</c> reads one
/// snapshot (a read transaction; in WAL mode writers go on) and writes it to a new file, compacted. Restoring is
/// starting the app on the copy: operations that were running resume, settling with the provider (whose record,
/// for the Simulator, is in the same copy) what was in flight, so nothing goes twice.
/// </summary>
public static class DatabaseBackup
{
    public static async Task WriteAsync(string connectionString, string destination, CancellationToken ct = default)
    {
        var source = new SqliteConnectionStringBuilder(connectionString);
        if (!File.Exists(source.DataSource))
        {
            throw new FileNotFoundException($"There is no database at {source.DataSource}.", source.DataSource);
        }
        destination = Path.GetFullPath(destination);
        if (File.Exists(destination))
        {
            throw new IOException($"{destination} already exists: a backup never overwrites a file; choose a new name.");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        source.Pooling = false;
        await using var connection = new SqliteConnection(source.ToString());
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "VACUUM INTO $file";
        command.Parameters.AddWithValue("$file", destination);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// <c>dotnet run --project BulkCampaigns -- backup FILE</c>: writes the copy and exits, never starting the web
    /// server; safe beside the running app. The database is found as the app finds it (settings file, environment).
    /// </summary>
    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] == "backup";

    public static async Task<int> RunCommandAsync(string[] args)
    {
        if (args.Length < 2 || string.IsNullOrWhiteSpace(args[1]))
        {
            await Console.Error.WriteLineAsync("Usage: backup FILE   (writes a consistent copy of the database to FILE, a new file)");
            return 2;
        }
        var builder = WebApplication.CreateBuilder(args[2..]);
        var settingsRoot = builder.AddRepositorySettings();
        if (DataSetup.ReadProvider(builder.Configuration).Provider == DatabaseProvider.Postgres)
        {
            await Console.Error.WriteLineAsync("The database is PostgreSQL: back it up with pg_dump, e.g. pg_dump --format=custom --file=bulkcampaigns.dump \"host=… dbname=… user=…\".");
            return 2;
        }
        var connectionString = DataSetup.ResolveConnectionString(builder.Configuration.GetConnectionString("BulkCampaigns") ?? DataSetup.DefaultConnectionString, settingsRoot);
        var destination = Path.GetFullPath(args[1]);
        try
        {
            await WriteAsync(connectionString, destination);
        }
        catch (Exception ex) when (ex is IOException or SqliteException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"Backup failed: {ex.Message}");
            return 1;
        }
        Console.WriteLine($"Backed up {new SqliteConnectionStringBuilder(connectionString).DataSource} to {destination} ({new FileInfo(destination).Length:N0} bytes).");
        return 0;
    }
}
