using System.Globalization;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Recipients;
using CsvHelper;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Campaigns;

/// <summary>Streams an operation's messages with their statuses as CSV, a thousand rows at a time.</summary>
public static class CampaignExport
{
    private const int Chunk = 1000;

    public static async Task WriteAsync(string id, HttpContext http, IDbContextFactory<AppDbContext> dbFactory, CancellationToken ct)
    {
        if (!PublicId.TryDecode(PublicId.Operation, id, out var operationId))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var operation = await db.Set<Operation>().AsNoTracking().FirstOrDefaultAsync(o => o.Id == operationId, ct);
        if (operation is null)
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        http.Response.ContentType = "text/csv; charset=utf-8";
        var name = string.Concat((operation.Name ?? id).Select(c => char.IsLetterOrDigit(c) ? c : '-'));
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}-messages.csv\"";

        await using var csv = CsvWriter.Create(http.Response.Body, CsvCells.WriterOptions, leaveOpen: true);
        foreach (var header in new[] { "id", "address", "channel", "status", "segments", "attempts", "errorCode", "errorMessage", "providerMessageId", "sentAt", "updatedAt", "clickedAt", "clicks", "text", "variant" })
        {
            csv.WriteField(header);
        }
        await csv.EndRecordAsync(ct);

        var after = operation.FirstMessageId - 1;
        while (!ct.IsCancellationRequested)
        {
            var rows = await db.Set<Message>().AsNoTracking()
                .Where(m => m.Id > after && m.Id <= operation.LastMessageId && m.OperationId == operationId)
                .OrderBy(m => m.Id).Take(Chunk).ToListAsync(ct);
            if (rows.Count == 0)
            {
                break;
            }
            foreach (var view in rows.Select(m => MessageView.Of(m, operation)))
            {
                csv.WriteField(view.Id);
                csv.WriteField(CsvCells.Escape(view.To.Address));
                csv.WriteField(view.To.Channel);
                csv.WriteField(view.Status.ToString().ToUpperInvariant());
                csv.WriteField(view.Segments.ToString(CultureInfo.InvariantCulture));
                csv.WriteField(view.Attempts.ToString(CultureInfo.InvariantCulture));
                csv.WriteField(CsvCells.Escape(view.ErrorCode ?? ""));
                csv.WriteField(CsvCells.Escape(view.ErrorMessage ?? ""));
                csv.WriteField(CsvCells.Escape(view.ProviderMessageId ?? ""));
                csv.WriteField(view.SentAt?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) ?? "");
                csv.WriteField(view.UpdatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
                csv.WriteField(view.ClickedAt?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) ?? "");
                csv.WriteField(view.Clicks.ToString(CultureInfo.InvariantCulture));
                csv.WriteField(CsvCells.Escape(view.Content.Text ?? ""));
                csv.WriteField(CsvCells.Escape(view.Variant ?? ""));
                await csv.EndRecordAsync(ct);
            }
            after = rows[^1].Id;
        }
        await csv.FlushAsync(ct);
    }
}
