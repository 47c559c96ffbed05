using BulkCampaigns.Recipients;

namespace BulkCampaigns.Dispatch;

/// <summary>What an import job reads of its import when it starts.</summary>
public sealed record ImportJobSettings(long Id, long GroupId, string Mode, string Region, string? AddressColumn, string? ChannelColumn, string StoredFile);

/// <summary>An import's counts so far; <see cref="Distinct"/> is the number of addresses staged.</summary>
public readonly record struct ImportCounts(long RowsRead, long BytesRead, long Distinct, long Duplicates, long Rejected);

/// <summary>A row merged into an earlier row (<see cref="FirstRow"/>) of the same address.</summary>
public readonly record struct MergedRow(long Row, long Line, long Key, long FirstRow);

/// <summary>
/// The rows of the report not stored yet: rejected and merged rows in file order. The store writes and clears them with
/// the counts, so the report grows with the import and never holds more than what came since the last save.
/// </summary>
public sealed class ImportReport
{
    public List<RowRejection> Rejected { get; } = [];
    public List<MergedRow> Merged { get; } = [];

    public void Clear()
    {
        Rejected.Clear();
        Merged.Clear();
    }
}

/// <summary>
/// What the move needs to decide and describe itself inside its one transaction. <see cref="Describe"/> words the
/// summary stored with the COMPLETED import, from the final figures.
/// </summary>
public sealed record ImportMoveRequest(
    ImportJobSettings Import,
    IReadOnlyList<string> VariableNames,
    long MaxRecipients,
    int MaxAttributeKeys,
    ImportCounts Counts,
    ImportReport Report,
    DateTimeOffset Now,
    Func<ImportMoved, string> Describe)
{
    /// <summary>How many variables a group with <paramref name="before"/> has once the file's <paramref name="names"/> are added.</summary>
    public static int VariablesAfter(IReadOnlyList<string> before, IReadOnlyList<string> names) =>
        before.Count + names.Count(n => !before.Contains(n, StringComparer.Ordinal));
}

/// <summary>The figures of a move that committed: the group holds <see cref="Total"/> recipients now.</summary>
public sealed record ImportMoved(long Imported, long Updated, long Duplicates, long Total);

/// <summary>How a move ended; every outcome but <see cref="Moved"/> added nothing.</summary>
public abstract record ImportMoveOutcome
{
    private ImportMoveOutcome()
    {
    }

    public sealed record Moved(ImportMoved Figures) : ImportMoveOutcome;

    /// <summary>The import was no longer PROCESSING (another run finished it): this one added nothing.</summary>
    public sealed record AlreadyFinished : ImportMoveOutcome;

    public sealed record GroupGone : ImportMoveOutcome;

    /// <summary>The group would hold <see cref="Total"/> recipients (or more, unless replacing), past the limit.</summary>
    public sealed record OverLimit(long Total) : ImportMoveOutcome;

    /// <summary>The group would have <see cref="Total"/> variables, past the limit (another import added some meanwhile).</summary>
    public sealed record TooManyVariables(int Total) : ImportMoveOutcome;
}

/// <summary>
/// One import's staged rows, private to it: valid rows are appended in file order (the later row of an address
/// after the earlier one), then moved into the group in one transaction that either adds all or nothing. On SQLite a
/// TEMP table of the staging connection; on PostgreSQL a binary COPY into an unlogged or temporary table and one
/// <c>INSERT … SELECT … ON CONFLICT</c>. Disposing drops what is staged.
/// </summary>
public interface IImportStaging : IAsyncDisposable
{
    /// <summary>Appends <paramref name="rows"/> in their order; a row may be buffered until the next <see cref="CheckpointAsync"/>.</summary>
    ValueTask AddAsync(ReadOnlyMemory<ValidRecipient> rows, CancellationToken ct);

    /// <summary>
    /// The row's variables folded for segments, when this stage keeps them with the row (SQLite: JSONB, in bytes taken
    /// from <paramref name="bytes"/>); called for every valid row on the validating cores, so the one thread that stages
    /// the rows does not fold them too. Empty when there is nothing to keep (PostgreSQL folds in its move).
    /// </summary>
    ReadOnlyMemory<byte> Fold(in ValidRecipient row, ByteSlices bytes) => default;

    /// <summary>Makes what was added durable in the stage, so the stage's own transaction stays short.</summary>
    ValueTask CheckpointAsync(CancellationToken ct);

    /// <summary>
    /// In one transaction: checks the group and its limits, moves the staged rows into it (<see cref="ImportMode"/>:
    /// upsert updates an existing address with the latest row, append keeps the existing one, replace empties the group
    /// first), updates the group's count and variables, writes the rest of the report and completes the import.
    /// </summary>
    Task<ImportMoveOutcome> MoveAsync(ImportMoveRequest request, CancellationToken ct);
}

/// <summary>The import's statements: its start, progress, failure, and its staging and move (<see cref="IImportStaging"/>).</summary>
public partial interface IEngineStore
{
    /// <summary>Counts an attempt of a PROCESSING import and clears what a cut-off attempt wrote; null when it is not processing.</summary>
    Task<ImportJobSettings?> StartImportAsync(long importId, DateTimeOffset now, CancellationToken ct);

    /// <summary>The group's variable names (none for an unknown group).</summary>
    Task<List<string>> GroupVariablesAsync(long groupId, CancellationToken ct);

    /// <summary>A new, empty stage for one import's rows.</summary>
    Task<IImportStaging> OpenImportStagingAsync(CancellationToken ct);

    /// <summary>Stores the counts of a PROCESSING import and the report rows of <paramref name="report"/>, then clears them.</summary>
    Task SaveImportProgressAsync(long importId, ImportCounts counts, ImportReport report, CancellationToken ct);

    /// <summary>Marks a PROCESSING import FAILED with <paramref name="message"/>, its counts and the rest of its report; nothing was added.</summary>
    Task FailImportAsync(long importId, string message, ImportCounts counts, ImportReport report, DateTimeOffset now, CancellationToken ct);
}
