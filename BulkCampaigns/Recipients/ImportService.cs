using System.Globalization;
using BulkCampaigns.Api;
using BulkCampaigns.Data;
using CsvHelper;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Recipients;

/// <summary>What the user asked of an import (query of <c>POST /v1/Groups/{id}/Imports</c> or the page's choices).</summary>
public sealed record ImportRequest(string? Mode, string? DefaultRegion, string? AddressColumn, string? ChannelColumn, string? FileName)
{
    /// <summary>Adds each problem to <paramref name="validation"/>; returns the request with defaults filled in.</summary>
    public ImportRequest Normalize(RecipientOptions options, ApiValidation validation)
    {
        var mode = string.IsNullOrWhiteSpace(Mode) ? ImportMode.Upsert : Mode.Trim().ToLowerInvariant();
        if (!ImportMode.All.Contains(mode))
        {
            validation.Add("mode", $"mode must be upsert, append or replace, not '{Mode}'.");
        }
        var region = string.IsNullOrWhiteSpace(DefaultRegion) ? options.DefaultRegion : DefaultRegion.Trim().ToUpperInvariant();
        if (!PhoneAddress.IsKnownRegion(region))
        {
            validation.Add("defaultRegion", $"defaultRegion must be a two-letter country code such as US, GB or DE, not '{DefaultRegion}'.");
        }
        if (AddressColumn is { Length: > 200 })
        {
            validation.Add("addressColumn", "addressColumn is longer than 200 characters.");
        }
        if (ChannelColumn is { Length: > 200 })
        {
            validation.Add("channelColumn", "channelColumn is longer than 200 characters.");
        }
        var name = string.IsNullOrWhiteSpace(FileName) ? "upload.csv" : Path.GetFileName(FileName.Trim());
        return new ImportRequest(mode, region, NullIfBlank(AddressColumn), NullIfBlank(ChannelColumn), name.Length > 200 ? name[..200] : name);
    }

    private static string? NullIfBlank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}

public sealed record ImportErrorView(long Row, long Line, string? Column, string? Value, string Reason)
{
    public string Describe() => new RowRejection(Row, Line, Column, Value, Reason).Describe();
}

public sealed record ImportDuplicateView(long Row, long Line, string Address, long FirstRow);

public sealed record ImportView(
    string Id, string GroupId, string Status, string Mode, string DefaultRegion, string? AddressColumn, string? ChannelColumn,
    string FileName, long Bytes, long BytesRead, long RowsRead, long Imported, long Updated, long Duplicates, long Rejected,
    IReadOnlyList<ImportErrorView> Errors, string ErrorReportUrl, string DuplicatesReportUrl, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, string? Message)
{
    public bool IsFinished => Status != ImportStatus.Processing;

    /// <summary>Rows per second so far (while running) or overall (once finished).</summary>
    public double RowsPerSecond(DateTimeOffset now)
    {
        var seconds = ((CompletedAt ?? now) - (StartedAt ?? CreatedAt)).TotalSeconds;
        return seconds > 0.05 ? RowsRead / seconds : 0;
    }

    /// <summary>The time left judged from the share of the file read so far; null when it can't be told yet.</summary>
    public TimeSpan? TimeLeft(DateTimeOffset now)
    {
        if (IsFinished || StartedAt is null || BytesRead <= 0 || Bytes <= 0)
        {
            return null;
        }
        var elapsed = now - StartedAt.Value;
        var left = elapsed.TotalSeconds * (Bytes - Math.Min(BytesRead, Bytes)) / BytesRead;
        return TimeSpan.FromSeconds(Math.Max(0, left));
    }
}

/// <summary>The outcome of starting an import: the import, or an HTTP status with a message a marketer can act on.</summary>
public sealed record StartImportResult(ImportView? Import, int Status, string? Message)
{
    public static StartImportResult Fail(int status, string message) => new(null, status, message);
}

/// <summary>Raised while storing an upload that is larger than <c>Limits:MaxUploadBytes</c>.</summary>
public sealed class UploadTooLargeException(long limit)
    : Exception($"The file is larger than the limit of {limit / (1024 * 1024)} MB ({limit:N0} bytes).")
{
    public long Limit { get; } = limit;
}

/// <summary>
/// Starts CSV imports (stores the upload, checks it is a CSV with an address column, queues the job)
/// and reads their state. The import endpoint and the group page both go through it.
/// </summary>
public sealed class ImportService(
    IDbContextFactory<AppDbContext> dbFactory,
    RecipientOptions options,
    IBackgroundJobClient jobs,
    Dispatch.CurrentNode node,
    TimeProvider clock)
{
    public const int ErrorsShown = 100;

    public RecipientOptions Options => options;

    /// <summary>
    /// Stores <paramref name="content"/> under the upload folder and queues its import. Fails at once,
    /// adding nothing, when the group is unknown, the file is empty, is not CSV text, or has no address column.
    /// </summary>
    /// <exception cref="UploadTooLargeException">The content passed <see cref="RecipientOptions.MaxUploadBytes"/>.</exception>
    public async Task<StartImportResult> StartAsync(long groupId, Stream content, ImportRequest request, CancellationToken ct = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            if (!await db.Set<Group>().AnyAsync(g => g.Id == groupId, ct))
            {
                return StartImportResult.Fail(404, "No group with that id.");
            }
        }
        Directory.CreateDirectory(options.UploadFolder);
        var storedName = $"{clock.GetUtcNow():yyyyMMddHHmmss}-{Guid.NewGuid():N}.csv";
        var path = Path.Combine(options.UploadFolder, storedName);
        long bytes;
        byte[] sample;
        try
        {
            (bytes, sample) = await StoreAsync(content, path, ct);
        }
        catch
        {
            TryDelete(path);
            throw;
        }
        var layout = CsvLayout.Inspect(sample, wholeFile: bytes <= sample.Length, previewRows: 0, options.CsvLimits);
        string? error = layout.Error;
        if (error is null)
        {
            (_, _, error) = RecipientRowValidator.ResolveColumns(layout.Headers, request.AddressColumn, request.ChannelColumn);
        }
        if (error is not null)
        {
            TryDelete(path);
            return StartImportResult.Fail(400, error);
        }
        var import = new Import
        {
            GroupId = groupId,
            Mode = request.Mode ?? ImportMode.Upsert,
            DefaultRegion = request.DefaultRegion ?? options.DefaultRegion,
            AddressColumn = request.AddressColumn ?? CsvLayout.DetectAddressColumn(layout.Headers),
            ChannelColumn = request.ChannelColumn,
            FileName = request.FileName ?? "upload.csv",
            StoredFile = storedName,
            NodeName = node.Name,
            Bytes = bytes,
            CreatedAt = clock.GetUtcNow(),
        };
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            db.Add(import);
            await db.SaveChangesAsync(ct);
        }
        Enqueue(import.Id);
        return new StartImportResult(ToView(import, []), 202, null);
    }

    /// <summary>
    /// Queues the import job on this node's own queue: the uploaded file is in this node's data folder, so the job
    /// runs where it can read it (another node sharing the database would not find it). It takes the ID only and may run twice safely.
    /// </summary>
    public void Enqueue(long importId) => jobs.Enqueue<CsvImportJob>(Dispatch.NodeOptions.QueueOf(node.Name), job => job.RunAsync(importId, CancellationToken.None));

    public async Task<ImportView?> GetAsync(long groupId, long importId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var import = await db.Set<Import>().AsNoTracking().FirstOrDefaultAsync(i => i.Id == importId && i.GroupId == groupId, ct);
        return import is null ? null : ToView(import, await FirstErrorsAsync(db, importId, ct));
    }

    /// <summary>The group's latest import, so a page left during an import finds it again.</summary>
    public async Task<ImportView?> LatestAsync(long groupId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var import = await db.Set<Import>().AsNoTracking().Where(i => i.GroupId == groupId).OrderByDescending(i => i.Id).FirstOrDefaultAsync(ct);
        return import is null ? null : ToView(import, await FirstErrorsAsync(db, import.Id, ct));
    }

    /// <summary>One page of the import's rejected rows in row order, after row <paramref name="afterRow"/>.</summary>
    public async Task<List<ImportErrorView>> ErrorsAsync(long importId, long afterRow, int take, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<ImportError>().AsNoTracking().Where(e => e.ImportId == importId && e.Row > afterRow).OrderBy(e => e.Row).Take(take)
            .Select(e => new ImportErrorView(e.Row, e.Line, e.Column, e.Value, e.Reason)).ToListAsync(ct);
    }

    /// <summary>One page of the import's merged rows in row order, after row <paramref name="afterRow"/>.</summary>
    public async Task<List<ImportDuplicateView>> DuplicatesAsync(long importId, long afterRow, int take, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<ImportDuplicate>().AsNoTracking().Where(e => e.ImportId == importId && e.Row > afterRow).OrderBy(e => e.Row).Take(take)
            .Select(e => new ImportDuplicateView(e.Row, e.Line, e.Address, e.FirstRow)).ToListAsync(ct);
    }

    /// <summary>Writes every merged row of the import as CSV (address, row, line, merged_with_row), streamed.</summary>
    public async Task WriteDuplicatesCsvAsync(long importId, Stream output, CancellationToken ct = default)
    {
        await using var csv = CsvWriter.Create(output, CsvCells.WriterOptions, leaveOpen: true);
        foreach (var header in new[] { "address", "row", "line", "merged_with_row" })
        {
            csv.WriteField(header);
        }
        await csv.EndRecordAsync(ct);
        long after = 0;
        while (true)
        {
            var batch = await DuplicatesAsync(importId, after, 5000, ct);
            foreach (var d in batch)
            {
                csv.WriteField(CsvCells.Escape(d.Address));
                csv.WriteField(d.Row.ToString(CultureInfo.InvariantCulture));
                csv.WriteField(d.Line.ToString(CultureInfo.InvariantCulture));
                csv.WriteField(d.FirstRow.ToString(CultureInfo.InvariantCulture));
                await csv.EndRecordAsync(ct);
            }
            if (batch.Count < 5000)
            {
                break;
            }
            after = batch[^1].Row;
        }
        await csv.FlushAsync(ct);
    }

    /// <summary>Writes every rejected row of the import as CSV (row, line, column, value, reason), streamed.</summary>
    public async Task WriteErrorsCsvAsync(long importId, Stream output, CancellationToken ct = default)
    {
        // Kestrel allows no synchronous writes: records end with EndRecordAsync, which flushes without blocking.
        await using var csv = CsvWriter.Create(output, CsvCells.WriterOptions, leaveOpen: true);
        foreach (var header in new[] { "row", "line", "column", "value", "reason" })
        {
            csv.WriteField(header);
        }
        await csv.EndRecordAsync(ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        long after = 0;
        while (true)
        {
            var batch = await db.Set<ImportError>().AsNoTracking().Where(e => e.ImportId == importId && e.Row > after)
                .OrderBy(e => e.Row).Take(5000).ToListAsync(ct);
            foreach (var e in batch)
            {
                csv.WriteField(e.Row.ToString(CultureInfo.InvariantCulture));
                csv.WriteField(e.Line.ToString(CultureInfo.InvariantCulture));
                csv.WriteField(CsvCells.Escape(e.Column ?? ""));
                csv.WriteField(CsvCells.Escape(e.Value ?? ""));
                csv.WriteField(e.Reason);
                await csv.EndRecordAsync(ct);
            }
            if (batch.Count < 5000)
            {
                break;
            }
            after = batch[^1].Row;
        }
        await csv.FlushAsync(ct);
    }

    private static async Task<List<ImportErrorView>> FirstErrorsAsync(AppDbContext db, long importId, CancellationToken ct) =>
        await db.Set<ImportError>().AsNoTracking().Where(e => e.ImportId == importId).OrderBy(e => e.Row).Take(ErrorsShown)
            .Select(e => new ImportErrorView(e.Row, e.Line, e.Column, e.Value, e.Reason)).ToListAsync(ct);

    internal static ImportView ToView(Import i, IReadOnlyList<ImportErrorView> errors)
    {
        var groupId = PublicId.Encode(PublicId.Group, i.GroupId);
        var id = PublicId.Encode(PublicId.Import, i.Id);
        return new ImportView(id, groupId, i.Status, i.Mode, i.DefaultRegion, i.AddressColumn, i.ChannelColumn, i.FileName, i.Bytes, i.BytesRead,
            i.RowsRead, i.Imported, i.Updated, i.Duplicates, i.Rejected, errors, $"/v1/Groups/{groupId}/Imports/{id}/Errors", $"/v1/Groups/{groupId}/Imports/{id}/Duplicates",
            i.CreatedAt, i.StartedAt, i.CompletedAt, i.Message);
    }

    private async Task<(long Bytes, byte[] Sample)> StoreAsync(Stream content, string path, CancellationToken ct)
    {
        var sample = new MemoryStream();
        var headBytes = CsvLayout.HeadBytes(options.CsvLimits);
        long total = 0;
        var buffer = new byte[81920];
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
        int read;
        while ((read = await content.ReadAsync(buffer, ct)) > 0)
        {
            total += read;
            if (total > options.MaxUploadBytes)
            {
                throw new UploadTooLargeException(options.MaxUploadBytes);
            }
            if (sample.Length < headBytes)
            {
                sample.Write(buffer, 0, (int)Math.Min(read, headBytes - sample.Length));
            }
            await file.WriteAsync(buffer.AsMemory(0, read), ct);
        }
        return (total, sample.ToArray());
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left for the next clean-up; it holds no state.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>
/// CSV formula injection (docs/api.md): a cell starting with = + - @ tab or CR gets a leading apostrophe. A cell that already
/// starts with apostrophes and then one of those gets one more, so that <see cref="Unescape"/> (used by the import) gives
/// back exactly what was exported: an export imports back as it was.
/// </summary>
public static class CsvCells
{
    /// <summary>
    /// How every CSV the app exports is written: the defaults, starting with a UTF-8 byte-order mark so Excel reads it as
    /// UTF-8 (Zoë, not ZoÃ«). The import skips the mark.
    /// </summary>
    public static CsvWriterOptions WriterOptions => new() { WriteByteOrderMark = true };

    public static string Escape(string value) => NeedsEscape(value) ? "'" + value : value;

    /// <summary>Undoes <see cref="Escape"/>: drops the apostrophe in front of exactly the forms it writes. Allocates only then.</summary>
    public static string Unescape(string value) => value.Length > 1 && value[0] == '\'' && NeedsEscape(value.AsSpan(1)) ? value[1..] : value;

    private static bool NeedsEscape(ReadOnlySpan<char> value)
    {
        var i = 0;
        while (i < value.Length && value[i] == '\'')
        {
            i++;
        }
        return i < value.Length && value[i] is '=' or '+' or '-' or '@' or '\t' or '\r';
    }
}
