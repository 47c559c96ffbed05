namespace BulkCampaigns.Dispatch.Postgres;

/// <summary>
/// CSV imports on PostgreSQL: not written yet. The plan (issue 12) is a binary COPY (<c>NpgsqlBinaryImporter</c>) into
/// a staging table and one <c>INSERT … SELECT … ON CONFLICT</c> with the SQLite store's upsert/append/replace semantics
/// and counts. Until then an import on PostgreSQL stops with this plain sentence (the import is marked FAILED by its
/// job) instead of half-working.
/// </summary>
public sealed partial class PostgresEngineStore
{
    private const string ImportsNotYet = "CSV imports are not available on PostgreSQL yet; import on SQLite, or add recipients inline through POST /v1/Messages.";

    public Task<ImportJobSettings?> StartImportAsync(long importId, DateTimeOffset now, CancellationToken ct) => throw new NotSupportedException(ImportsNotYet);

    public Task<List<string>> GroupVariablesAsync(long groupId, CancellationToken ct) => throw new NotSupportedException(ImportsNotYet);

    public Task<IImportStaging> OpenImportStagingAsync(CancellationToken ct) => throw new NotSupportedException(ImportsNotYet);

    public Task SaveImportProgressAsync(long importId, ImportCounts counts, ImportReport report, CancellationToken ct) => throw new NotSupportedException(ImportsNotYet);

    public Task FailImportAsync(long importId, string message, ImportCounts counts, ImportReport report, DateTimeOffset now, CancellationToken ct) => throw new NotSupportedException(ImportsNotYet);
}
