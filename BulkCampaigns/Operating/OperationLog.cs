using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;

namespace BulkCampaigns.Operating;

/// <summary>
/// One structured log line per turn in an operation's life (started, scheduled, paused, resumed, canceled, completed),
/// each with its public ID and name, so an operator can follow a campaign in the logs and search them by either.
/// Writing a line never fails the work that asked for it.
/// </summary>
public sealed partial class OperationLog(DatabaseConnection database, ILogger<OperationLog> log)
{
    public Task MadeAsync(long operationId, CancellationToken ct = default) => WriteAsync(operationId, (id, o) =>
    {
        switch (o.Status)
        {
            case OperationStatus.Scheduled:
                Scheduled(id, o.Name, o.Total, o.SendAt);
                break;
            case OperationStatus.Completed:
                Started(id, o.Name, o.Total);
                Completed(id, o.Name, o.Total, o.Sent, o.Failed, o.Suppressed, o.Attempts);
                break;
            default:
                Started(id, o.Name, o.Total);
                break;
        }
    }, ct);

    public Task StartedAsync(long operationId, CancellationToken ct = default) =>
        WriteAsync(operationId, (id, o) => Started(id, o.Name, o.Total), ct);

    public Task PausedAsync(long operationId, string? reason, CancellationToken ct = default) =>
        WriteAsync(operationId, (id, o) => Paused(id, o.Name, reason ?? "paused by a person"), ct);

    public Task ResumedAsync(long operationId, CancellationToken ct = default) =>
        WriteAsync(operationId, (id, o) => Resumed(id, o.Name, o.Status), ct);

    public Task CanceledAsync(long operationId, CancellationToken ct = default) =>
        WriteAsync(operationId, (id, o) => Canceled(id, o.Name, o.Canceled), ct);

    public Task CompletedAsync(long operationId, CancellationToken ct = default) =>
        WriteAsync(operationId, (id, o) => Completed(id, o.Name, o.Total, o.Sent, o.Failed, o.Suppressed, o.Attempts), ct);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Operation {OperationId} ({OperationName}) started: {Total} messages")]
    private partial void Started(string operationId, string operationName, long total);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Operation {OperationId} ({OperationName}) scheduled: {Total} messages at {SendAt}")]
    private partial void Scheduled(string operationId, string operationName, long total, DateTimeOffset? sendAt);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Operation {OperationId} ({OperationName}) paused: {Reason}")]
    private partial void Paused(string operationId, string operationName, string reason);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Operation {OperationId} ({OperationName}) resumed, now {Status}")]
    private partial void Resumed(string operationId, string operationName, OperationStatus status);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Operation {OperationId} ({OperationName}) canceled: {Canceled} messages will not be sent")]
    private partial void Canceled(string operationId, string operationName, long canceled);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information,
        Message = "Operation {OperationId} ({OperationName}) completed: {Total} messages, {Sent} sent, {Failed} failed, {Suppressed} suppressed, {Attempts} attempts")]
    private partial void Completed(string operationId, string operationName, long total, long sent, long failed, long suppressed, long attempts);

    private sealed record Facts(string Name, OperationStatus Status, long Total, long Sent, long Failed, long Suppressed, long Canceled, long Attempts, DateTimeOffset? SendAt);

    private async Task WriteAsync(long operationId, Action<string, Facts> write, CancellationToken ct)
    {
        if (!log.IsEnabled(LogLevel.Information))
        {
            return;
        }
        try
        {
            // Quoted names and @op: the same statement on SQLite and PostgreSQL. Plain SQL rather than EF on purpose:
            // the line at creation is written right after the batches are enqueued, and a first EF query's compile
            // time let a small operation finish first (its completion then logged twice).
            await using var connection = await database.OpenAnyAsync(ct);
            await using var command = connection.CreateCommand();
            // Sent counts what went out, whatever the carrier said about it since.
            command.CommandText = """
                SELECT COALESCE("Name", ''), "Status", "Total", "Sent" + "Delivered" + "Read" + "Undelivered", "Failed" + "Unaddressable",
                       "Suppressed", "Canceled", "Attempts", "SendAt"
                FROM "Operations" WHERE "Id" = @op
                """;
            var op = command.CreateParameter();
            op.ParameterName = "@op";
            op.Value = operationId;
            command.Parameters.Add(op);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return;
            }
            var facts = new Facts(reader.GetString(0), (OperationStatus)reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4),
                reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.IsDBNull(8) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)));
            write(PublicId.Encode(PublicId.Operation, operationId), facts);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            log.LogDebug(ex, "Could not write the log line of operation {OperationId}", operationId);
        }
    }
}
