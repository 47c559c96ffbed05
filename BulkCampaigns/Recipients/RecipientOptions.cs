using BulkCampaigns.Data;
using BulkCampaigns.Hosting;

namespace BulkCampaigns.Recipients;

/// <summary>The limits and defaults of groups and imports, from <c>Limits:*</c> and <c>Messaging:DefaultRegion</c>.</summary>
public sealed class RecipientOptions
{
    public long MaxGroupRecipients { get; init; } = 1_000_000;
    public long MaxUploadBytes { get; init; } = 536_870_912;
    public string DefaultRegion { get; init; } = "US";

    /// <summary>Columns one file may have (<c>Limits:MaxColumns</c>): a wider file is refused before any row is read.</summary>
    public int MaxColumns { get; init; } = 500;

    /// <summary>Characters one cell may hold (<c>Limits:MaxCellChars</c>): a longer cell rejects its row (or the file, in the header).</summary>
    public int MaxCellChars { get; init; } = 10_000;

    /// <summary>Bytes the header line may take (<c>Limits:MaxHeaderBytes</c>); it is always read whole.</summary>
    public int MaxHeaderBytes { get; init; } = 1024 * 1024;

    /// <summary>Variable names one group may hold (<c>Limits:MaxAttributeKeys</c>): an import that would pass it fails, adding nothing.</summary>
    public int MaxAttributeKeys { get; init; } = 500;

    /// <summary>
    /// The longest record read at all, in bytes: every cell at its limit, UTF-8 at its widest. A longer one can only be
    /// hostile (a quote left open for megabytes) and stops the file before it is held in memory.
    /// </summary>
    public int MaxRecordBytes => (int)Math.Min(int.MaxValue / 2, Math.Max(1024L * 1024, (long)MaxColumns * MaxCellChars * 3 + MaxColumns * 3));

    /// <summary>The limits a file's shape is checked against.</summary>
    public CsvLimits CsvLimits => new(MaxColumns, MaxCellChars, MaxHeaderBytes, MaxRecordBytes);

    /// <summary>Where uploads wait for their import: beside the SQLite file (on PostgreSQL <c>Database:DataFolder</c>), so they survive a restart with it.</summary>
    public required string UploadFolder { get; init; }

    public static RecipientOptions From(LimitsOptions limits, MessagingOptions messaging, DatabaseConnection database)
    {
        var folder = database.DataFolder;
        return new RecipientOptions
        {
            MaxGroupRecipients = limits.MaxGroupRecipients,
            MaxUploadBytes = limits.MaxUploadBytes,
            MaxColumns = Math.Max(1, limits.MaxColumns),
            MaxCellChars = Math.Max(1, limits.MaxCellChars),
            MaxHeaderBytes = Math.Max(1024, limits.MaxHeaderBytes),
            MaxAttributeKeys = Math.Max(1, limits.MaxAttributeKeys),
            DefaultRegion = messaging.Region,
            UploadFolder = Path.Combine(folder, "imports"),
        };
    }
}
