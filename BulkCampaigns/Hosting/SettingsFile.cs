namespace BulkCampaigns.Hosting;

/// <summary>
/// The operator's <c>appsettings.json</c> sits at the repository root (beside <c>BulkCampaigns.sln</c>).
/// The app finds it from wherever it is started — <c>dotnet run --project BulkCampaigns</c>, the IDE, the tests —
/// and relative paths in it (the SQLite file) are taken from that folder. A published app has no
/// solution file; it uses the <c>appsettings.json</c> in its own folder.
/// </summary>
public static class SettingsFile
{
    public const string FileName = "appsettings.json";

    /// <summary>The folder holding the repository's settings file, or null when none is found.</summary>
    public static string? FindRepositoryRoot(params string[] startFolders)
    {
        foreach (var start in startFolders)
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "BulkCampaigns.sln")) && File.Exists(Path.Combine(dir.FullName, FileName)))
                {
                    return dir.FullName;
                }
            }
        }
        return null;
    }

    /// <summary>
    /// Adds the repository's settings file just after the content root's one, so environment
    /// variables and the command line still win. Returns the folder relative paths are taken from.
    /// </summary>
    public static string AddRepositorySettings(this WebApplicationBuilder builder)
    {
        var root = FindRepositoryRoot(builder.Environment.ContentRootPath, Directory.GetCurrentDirectory());
        if (root is null)
        {
            return builder.Environment.ContentRootPath;
        }
        var sources = builder.Configuration.Sources;
        var index = sources.ToList().FindLastIndex(s => s is Microsoft.Extensions.Configuration.Json.JsonConfigurationSource);
        var file = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
        {
            Path = FileName,
            Optional = false,
            ReloadOnChange = false,
            FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(root),
        };
        sources.Insert(index + 1, file);
        return root;
    }
}
