using BulkCampaigns.Data;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Recipients;

/// <summary>The limits and defaults of groups and imports, from <c>Limits:*</c> and <c>Messaging:DefaultRegion</c>.</summary>
public sealed class RecipientOptions
{
    public long MaxGroupRecipients { get; init; } = 1_000_000;
    public long MaxUploadBytes { get; init; } = 536_870_912;
    public string DefaultRegion { get; init; } = "US";

    /// <summary>Where uploads wait for their import: beside the SQLite file, so they survive a restart with it.</summary>
    public required string UploadFolder { get; init; }

    public static RecipientOptions From(IConfiguration configuration, DatabaseConnection database)
    {
        var dataSource = new SqliteConnectionStringBuilder(database.ConnectionString).DataSource;
        var folder = Path.GetDirectoryName(Path.GetFullPath(dataSource)) ?? Path.GetTempPath();
        return new RecipientOptions
        {
            MaxGroupRecipients = configuration.GetValue("Limits:MaxGroupRecipients", 1_000_000L),
            MaxUploadBytes = configuration.GetValue("Limits:MaxUploadBytes", 536_870_912L),
            DefaultRegion = (configuration["Messaging:DefaultRegion"] is { Length: 2 } region ? region : "US").ToUpperInvariant(),
            UploadFolder = Path.Combine(folder, "imports"),
        };
    }
}
