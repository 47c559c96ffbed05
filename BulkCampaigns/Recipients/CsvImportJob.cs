using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using BulkCampaigns.Components.Shared;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Live;
using CsvHelper;
using Hangfire;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Recipients;

/// <summary>
/// The import engine. Reads the stored upload as a stream, validates batches of rows on every core, dedupes in file
/// order with an <see cref="AddressTable"/> (12 bytes an address), and appends the rows to a stage of its own
/// (<see cref="IImportStaging"/>: no lock on the group while it works). Then, in one short transaction, the store
/// checks the group limit and moves the rows into the group, so a failed import adds nothing.
/// </summary>
/// <remarks>
/// Takes the import's ID only and is safe to run twice: it does nothing unless the import is still
/// PROCESSING, and the move commits only while it still is. It is never retried automatically: a file that
/// fails will fail again, and an import cut off by a crash is resumed from its file by <see cref="ImportRecovery"/>.
/// </remarks>
public sealed class CsvImportJob(IEngineStore store, RecipientOptions options, TimeProvider clock, LivePublisher live, ILogger<CsvImportJob> logger)
{
    private const int BatchSize = 2048;
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(400);
    // Keyed by the store too: import IDs are per database, and tests host several apps in one process.
    private static readonly ConcurrentDictionary<(IEngineStore Store, long Id), byte> Running = new();

    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(long importId, CancellationToken ct)
    {
        var key = (store, importId);
        if (!Running.TryAdd(key, 0))
        {
            return; // already running in this process
        }
        try
        {
            await RunOnceAsync(importId, ct);
        }
        finally
        {
            Running.TryRemove(key, out _);
        }
    }

    private sealed class Progress
    {
        public long RowsRead;
        public long BytesRead;
        public long Valid;
        public long Duplicates;
        public long Distinct;
        public long Rejected;
        public readonly ImportReport Report = new();
        // Where the staging time goes (Stopwatch ticks), logged with the import: reading, validating (summed over
        // cores), staging, and the consumer waiting for the next validated batch.
        public long ReadTicks;
        public long ValidateTicks;
        public long StageTicks;
        public long WaitTicks;

        public ImportCounts Counts => new(RowsRead, BytesRead, Distinct, Duplicates, Rejected);
    }

    /// <summary>Rows read, in arrays from the shared pool: a batch of 2,048 would otherwise be a large-object allocation.</summary>
    private sealed record Batch(CsvRecord[] Records, int Count, long BytesRead);

    private sealed record ValidatedBatch(ValidRecipient[] Valid, int ValidCount, List<RowRejection> Rejected, int RowsRead, long BytesRead);

    private static string PublicIdOf(ImportJobSettings import) => PublicId.Encode(PublicId.Import, import.Id);

    private static string GroupPublicIdOf(ImportJobSettings import) => PublicId.Encode(PublicId.Group, import.GroupId);

    private async Task RunOnceAsync(long importId, CancellationToken ct)
    {
        var import = await store.StartImportAsync(importId, clock.GetUtcNow(), ct);
        if (import is null)
        {
            return;
        }
        logger.LogInformation("Import {ImportId} into group {GroupId} started: mode {Mode}, file {StoredFile}", PublicIdOf(import), GroupPublicIdOf(import), import.Mode, import.StoredFile);
        live.Changed(LiveTopics.Imports(GroupPublicIdOf(import)));
        var path = Path.Combine(options.UploadFolder, import.StoredFile);
        if (!File.Exists(path))
        {
            await FailAsync(import, new Progress(), "The uploaded file is no longer on the server (it was removed before the import ran). Upload it again.", ct);
            return;
        }
        var progress = new Progress();
        try
        {
            var outcome = await ImportFileAsync(import, path, progress, ct);
            if (outcome is not null)
            {
                await FailAsync(import, progress, outcome, ct);
            }
            else
            {
                ImportService.TryDelete(path);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw; // shutting down: the import stays PROCESSING and is resumed at the next start
        }
        catch (DecoderFallbackException)
        {
            await FailAsync(import, progress, $"The file is not UTF-8 text (after row {progress.RowsRead:N0}). In your spreadsheet choose 'Save as CSV UTF-8' and upload again; nothing was added.", ct);
        }
        catch (CsvShapeException ex)
        {
            await FailAsync(import, progress, ex.Message, ct);
        }
        catch (CsvFormatException ex)
        {
            await FailAsync(import, progress, $"The file can't be read as CSV after row {progress.RowsRead:N0} ({ex.Message}); nothing was added.", ct);
        }
        catch (Exception ex) when (ex is SqliteException or IOException)
        {
            logger.LogError(ex, "Import {ImportId} into group {GroupId} stopped by an error", PublicIdOf(import), GroupPublicIdOf(import));
            await FailAsync(import, progress, "The import stopped because of a problem on our side; nothing was added. Upload the file again; if it keeps failing, contact the operator.", ct);
        }
    }

    /// <summary>Runs the import; returns null when it completed, or why it failed (nothing added).</summary>
    private async Task<string?> ImportFileAsync(ImportJobSettings import, string path, Progress progress, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var limits = options.CsvLimits;
        var sample = new byte[Math.Min(CsvLayout.HeadBytes(limits), file.Length)];
        await file.ReadExactlyAsync(sample, ct);
        var layout = CsvLayout.Inspect(sample, wholeFile: file.Length <= sample.Length, previewRows: 0, limits);
        if (layout.Error is not null)
        {
            return layout.Error;
        }
        file.Position = 0;
        using var reader = new RecipientCsvReader(file, layout.Delimiter, limits.MaxRecordBytes);
        var (addressIndex, channelIndex, columnError) = RecipientRowValidator.ResolveColumns(reader.Header, import.AddressColumn, import.ChannelColumn);
        if (columnError is not null)
        {
            return columnError;
        }
        var validator = new RecipientRowValidator(reader.Header, addressIndex, channelIndex, import.Region, limits.MaxCellChars);
        var before = import.Mode == ImportMode.Replace ? [] : await store.GroupVariablesAsync(import.GroupId, ct);
        if (VariablesError(ImportMoveRequest.VariablesAfter(before, validator.VariableNames), validator.VariableNames.Count) is { } keysError)
        {
            return keysError; // known before a row is read
        }

        await using var stage = await store.OpenImportStagingAsync(ct);
        var watch = Stopwatch.StartNew();
        var limitError = await StageAsync(import, reader, validator, stage, progress, ct);
        if (limitError is not null)
        {
            return limitError;
        }
        var staged = watch.Elapsed;
        var outcome = await MoveAsync(import, validator.VariableNames, stage, progress, ct);
        logger.LogDebug("Import {ImportId}: {Rows} rows read and staged in {Staged:0.00} s (reading {Read:0.00} s, validating {Validate:0.00} s over all cores, staging {Stage:0.00} s, waiting for rows {Wait:0.00} s), moved into the group in {Moved:0.00} s",
            PublicIdOf(import), progress.RowsRead, staged.TotalSeconds, Seconds(progress.ReadTicks), Seconds(progress.ValidateTicks), Seconds(progress.StageTicks), Seconds(progress.WaitTicks),
            (watch.Elapsed - staged).TotalSeconds);
        return outcome;
    }

    /// <summary>Reads, validates (in parallel, results taken in file order) and stages every row.</summary>
    private async Task<string?> StageAsync(ImportJobSettings import, RecipientCsvReader reader, RecipientRowValidator validator, IImportStaging stage, Progress progress, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var ordered = Channel.CreateBounded<Task<ValidatedBatch>>(new BoundedChannelOptions(Math.Max(2, Environment.ProcessorCount * 2)) { SingleReader = true, SingleWriter = true });

        Exception? readError = null;
        var producer = Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var records = ArrayPool<CsvRecord>.Shared.Rent(BatchSize);
                    var count = 0;
                    var readStart = Stopwatch.GetTimestamp();
                    while (count < BatchSize && reader.TryRead(out var record))
                    {
                        records[count++] = record;
                    }
                    progress.ReadTicks += Stopwatch.GetTimestamp() - readStart;
                    if (count == 0)
                    {
                        ArrayPool<CsvRecord>.Shared.Return(records);
                        break;
                    }
                    var batch = new Batch(records, count, reader.BytesRead);
                    await ordered.Writer.WriteAsync(Task.Run(() => Validate(validator, stage, batch, progress), stop.Token), stop.Token);
                    if (count < BatchSize)
                    {
                        break;
                    }
                }
                ordered.Writer.TryComplete();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                readError = ex;
                ordered.Writer.TryComplete();
            }
            catch (OperationCanceledException)
            {
                ordered.Writer.TryComplete();
            }
        }, stop.Token);

        var upsert = import.Mode != ImportMode.Append;
        // Sized once from the file's length (about 55 bytes a row in typical files): growing it would briefly hold two
        // copies, the largest single allocation of an import. Address → its first row, so a merged row can say which
        // row it was merged with.
        var seen = new AddressTable(Math.Min(options.MaxGroupRecipients + 1, Math.Max(1024, reader.FileLength / 55)));
        var sinceCheckpoint = 0;
        var clock = Stopwatch.StartNew();
        var lastProgress = TimeSpan.Zero;
        try
        {
            var waitStart = Stopwatch.GetTimestamp();
            await foreach (var task in ordered.Reader.ReadAllAsync(ct))
            {
                var batch = await task;
                var stageStart = Stopwatch.GetTimestamp();
                progress.WaitTicks += stageStart - waitStart;
                progress.RowsRead += batch.RowsRead;
                progress.BytesRead = batch.BytesRead;
                progress.Rejected += batch.Rejected.Count;
                progress.Valid += batch.ValidCount;
                progress.Report.Rejected.AddRange(batch.Rejected);
                // Rows to stage are compacted in place: in append mode a merged row is dropped (the first row of an
                // address stays); in upsert mode every row is staged and the later one wins in the move.
                var valid = batch.Valid;
                var kept = 0;
                for (var i = 0; i < batch.ValidCount; i++)
                {
                    ref readonly var row = ref valid[i];
                    var first = seen.FirstRowOrAdd(row.Key, row.Row);
                    if (first >= 0)
                    {
                        progress.Duplicates++;
                        progress.Report.Merged.Add(new MergedRow(row.Row, row.Line, row.Key, first));
                        if (!upsert)
                        {
                            continue;
                        }
                    }
                    valid[kept++] = row;
                }
                await stage.AddAsync(valid.AsMemory(0, kept), ct);
                Array.Clear(valid, 0, batch.ValidCount); // the pool must not keep the rows' bytes alive
                ArrayPool<ValidRecipient>.Shared.Return(valid);
                progress.Distinct = seen.Count;
                if (import.Mode == ImportMode.Replace && seen.Count > options.MaxGroupRecipients)
                {
                    return LimitMessage(seen.Count, options.MaxGroupRecipients, replace: true);
                }
                sinceCheckpoint += batch.RowsRead;
                if (sinceCheckpoint >= 200_000)
                {
                    await stage.CheckpointAsync(ct);
                    sinceCheckpoint = 0;
                }
                if (clock.Elapsed - lastProgress >= ProgressEvery)
                {
                    lastProgress = clock.Elapsed;
                    await SaveProgressAsync(import, progress, ct);
                }
                waitStart = Stopwatch.GetTimestamp();
                progress.StageTicks += waitStart - stageStart;
            }
            if (readError is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(readError);
            }
            ct.ThrowIfCancellationRequested();
            await stage.CheckpointAsync(ct);
            progress.Distinct = seen.Count;
            await SaveProgressAsync(import, progress, ct);
            return null;
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await producer;
            }
            catch (OperationCanceledException)
            {
            }
            // Drain validations still in flight so none outlives the job.
            while (ordered.Reader.TryRead(out var left))
            {
                try
                {
                    await left;
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    private static ValidatedBatch Validate(RecipientRowValidator validator, IImportStaging stage, Batch batch, Progress progress)
    {
        var start = Stopwatch.GetTimestamp();
        var valid = ArrayPool<ValidRecipient>.Shared.Rent(batch.Count);
        var count = 0;
        var rejected = new List<RowRejection>();
        var bytes = new ByteSlices();
        try
        {
            for (var i = 0; i < batch.Count; i++)
            {
                var rejection = validator.Validate(batch.Records[i], out var recipient, bytes);
                if (rejection is null)
                {
                    valid[count++] = recipient with { Folded = stage.Fold(recipient, bytes) };
                }
                else
                {
                    rejected.Add(rejection);
                }
            }
        }
        finally
        {
            Array.Clear(batch.Records, 0, batch.Count);
            ArrayPool<CsvRecord>.Shared.Return(batch.Records);
        }
        Interlocked.Add(ref progress.ValidateTicks, Stopwatch.GetTimestamp() - start);
        return new ValidatedBatch(valid, count, rejected, batch.Count, batch.BytesRead);
    }

    private string? VariablesError(int total, int fromFile) =>
        total <= options.MaxAttributeKeys ? null
            : $"This import would give the group {total:N0} variables ({fromFile:N0} from the file), past the limit of {options.MaxAttributeKeys:N0}; nothing was added. Keep the columns your messages use, or use another group.";

    /// <summary>Checks the group limit and moves the staged rows into the group in one transaction; null when it completed, else why not.</summary>
    private async Task<string?> MoveAsync(ImportJobSettings import, IReadOnlyList<string> variableNames, IImportStaging stage, Progress progress, CancellationToken ct)
    {
        var request = new ImportMoveRequest(import, variableNames, options.MaxGroupRecipients, options.MaxAttributeKeys, progress.Counts, progress.Report, clock.GetUtcNow(),
            moved => $"{moved.Imported:N0} added, {moved.Updated:N0} updated, {Plural.Count(moved.Duplicates, "duplicate", "duplicates")} merged, {Plural.Count(progress.Rejected, "row", "rows")} rejected. The group now has {Plural.Count(moved.Total, "recipient", "recipients")}.");
        switch (await stage.MoveAsync(request, ct))
        {
            case ImportMoveOutcome.Moved { Figures: var moved }:
                logger.LogInformation("Import {ImportId} into group {GroupId} completed: {RowsRead} rows read, {Imported} added, {Updated} updated, {Duplicates} duplicates merged, {Rejected} rejected; the group has {RecipientCount} recipients",
                    PublicIdOf(import), GroupPublicIdOf(import), progress.RowsRead, moved.Imported, moved.Updated, moved.Duplicates, progress.Rejected, moved.Total);
                live.Changed(LiveTopics.Imports(GroupPublicIdOf(import)));
                return null;
            case ImportMoveOutcome.AlreadyFinished:
                return null; // another run finished it; this one adds nothing
            case ImportMoveOutcome.GroupGone:
                return "The group was deleted while the file was being imported; nothing was added.";
            case ImportMoveOutcome.OverLimit { Total: var total }:
                return LimitMessage(total, options.MaxGroupRecipients, import.Mode == ImportMode.Replace);
            case ImportMoveOutcome.TooManyVariables { Total: var total }:
                return VariablesError(total, variableNames.Count);
            default:
                throw new InvalidOperationException("An unknown outcome of the move.");
        }
    }

    private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    private static string LimitMessage(long total, long limit, bool replace) =>
        $"This import would bring the group to {total:N0} recipients{(replace ? "" : " or more")}, past the limit of {limit:N0}; nothing was added. Split the file or use another group.";

    private async Task SaveProgressAsync(ImportJobSettings import, Progress progress, CancellationToken ct)
    {
        await store.SaveImportProgressAsync(import.Id, progress.Counts, progress.Report, ct);
        live.Changed(LiveTopics.Imports(GroupPublicIdOf(import)));
    }

    private async Task FailAsync(ImportJobSettings import, Progress progress, string message, CancellationToken ct)
    {
        await store.FailImportAsync(import.Id, message, progress.Counts, progress.Report, clock.GetUtcNow(), ct);
        ImportService.TryDelete(Path.Combine(options.UploadFolder, import.StoredFile));
        logger.LogWarning("Import {ImportId} into group {GroupId} failed after {RowsRead} rows, nothing added: {Reason}", PublicIdOf(import), GroupPublicIdOf(import), progress.RowsRead, message);
        live.Changed(LiveTopics.Imports(GroupPublicIdOf(import)));
    }
}
