using System.Text.Json;
using BulkCampaigns.Operations;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Dispatch.Sqlite;

/// <summary>Delivery reports, early ones (before their send is written) and inbound messages already handled.</summary>
public sealed partial class SqliteEngineStore
{
    private const string ReportUpdateSql = """
        UPDATE Messages SET Status = $status, ErrorCode = COALESCE($code, ErrorCode), ErrorMessage = COALESCE($message, ErrorMessage), UpdatedAt = $now
        WHERE Id = $id AND Status = $old
        """;

    private const string KeepEarlySql = """
        INSERT INTO EarlyReports (MessageId, Status, ErrorCode, ErrorMessage, ReceivedAt) VALUES ($id, $status, $code, $message, $at)
        ON CONFLICT(MessageId) DO UPDATE SET Status = excluded.Status, ErrorCode = excluded.ErrorCode, ErrorMessage = excluded.ErrorMessage, ReceivedAt = excluded.ReceivedAt
        WHERE excluded.Status > EarlyReports.Status
        """;

    public async Task<AppliedReports> ApplyReportsAsync(IReadOnlyList<DeliveryReport> reports, CancellationToken ct)
    {
        AppliedReports applied;
        using (var writer = await gate.EnterAsync(ct))
        {
            await using var tx = writer.Connection.BeginTransaction();
            applied = await ApplyReportsAsync(writer.Connection, tx, reports, ct);
            for (var i = 0; i < reports.Count; i++)
            {
                if (applied.Results[i] == ReportResult.NotYet)
                {
                    await KeepEarlyAsync(writer.Connection, tx, reports[i], ct);
                }
            }
            await tx.CommitAsync(ct);
        }
        return applied;
    }

    private async Task<AppliedReports> ApplyReportsAsync(SqliteConnection connection, SqliteTransaction tx, IReadOnlyList<DeliveryReport> reports, CancellationToken ct)
    {
        var results = new ReportResult[reports.Count];
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var deltas = new Dictionary<long, StatsDelta>();
        await using var read = connection.CreateCommand();
        read.Transaction = tx;
        // A QUEUED message inside a claimed range is in flight (see ClaimedBatch): like SENDING, its report waits.
        read.CommandText = $"""
            SELECT Status, OperationId, Status = {(int)MessageStatus.Queued} AND EXISTS (SELECT 1 FROM ClaimedBatches c WHERE c.OperationId = m.OperationId AND m.Id BETWEEN c.FromId AND c.ToId)
            FROM Messages m WHERE Id = $id
            """;
        var readId = read.Parameters.Add("$id", SqliteType.Integer);
        await using var update = connection.CreateCommand();
        update.Transaction = tx;
        update.CommandText = ReportUpdateSql;
        var status = update.Parameters.Add("$status", SqliteType.Integer);
        var code = update.Parameters.Add("$code", SqliteType.Text);
        var message = update.Parameters.Add("$message", SqliteType.Text);
        update.Parameters.AddWithValue("$now", now);
        var id = update.Parameters.Add("$id", SqliteType.Integer);
        var old = update.Parameters.Add("$old", SqliteType.Integer);

        for (var i = 0; i < reports.Count; i++)
        {
            var report = reports[i];
            readId.Value = report.MessageId;
            MessageStatus current;
            long operationId;
            bool claimed;
            await using (var reader = await read.ExecuteReaderAsync(ct))
            {
                if (!await reader.ReadAsync(ct))
                {
                    results[i] = ReportResult.Ignored;
                    continue;
                }
                current = (MessageStatus)reader.GetInt32(0);
                operationId = reader.GetInt64(1);
                claimed = reader.GetBoolean(2);
            }
            if (current is MessageStatus.Sending || claimed)
            {
                results[i] = ReportResult.NotYet;
                continue;
            }
            if (!DeliveryReport.Allowed(current, report.Status))
            {
                results[i] = ReportResult.Ignored;
                continue;
            }
            status.Value = (int)report.Status;
            code.Value = (object?)report.ErrorCode ?? DBNull.Value;
            message.Value = (object?)report.ErrorMessage ?? DBNull.Value;
            id.Value = report.MessageId;
            old.Value = (int)current;
            if (await update.ExecuteNonQueryAsync(ct) == 1)
            {
                if (!deltas.TryGetValue(operationId, out var delta))
                {
                    deltas[operationId] = delta = new StatsDelta();
                }
                delta.Move(current, report.Status);
                results[i] = ReportResult.Applied;
            }
            else
            {
                results[i] = ReportResult.Ignored;
            }
        }
        foreach (var (operationId, delta) in deltas)
        {
            await delta.ApplyAsync(connection, tx, operationId, now, ct);
        }
        return new AppliedReports(results, deltas.Keys);
    }

    private async Task KeepEarlyAsync(SqliteConnection connection, SqliteTransaction tx, DeliveryReport report, CancellationToken ct)
    {
        await using var keep = connection.CreateCommand();
        keep.Transaction = tx;
        keep.CommandText = KeepEarlySql;
        keep.Parameters.AddWithValue("$id", report.MessageId);
        keep.Parameters.AddWithValue("$status", (int)report.Status);
        keep.Parameters.AddWithValue("$code", (object?)report.ErrorCode ?? DBNull.Value);
        keep.Parameters.AddWithValue("$message", (object?)report.ErrorMessage ?? DBNull.Value);
        keep.Parameters.AddWithValue("$at", clock.GetUtcNow().ToUnixTimeMilliseconds());
        await keep.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Applies the kept early reports of messages just written (in the same transaction); returns the operations touched.</summary>
    private async Task<IReadOnlyCollection<long>> ApplyEarlyReportsAsync(SqliteConnection connection, SqliteTransaction tx, HashSet<long> messageIds, CancellationToken ct)
    {
        await using (var any = connection.CreateCommand())
        {
            any.Transaction = tx;
            any.CommandText = "SELECT EXISTS (SELECT 1 FROM EarlyReports)";
            if (messageIds.Count == 0 || (long)(await any.ExecuteScalarAsync(ct))! == 0)
            {
                return [];
            }
        }
        var early = new List<DeliveryReport>();
        await using (var take = connection.CreateCommand())
        {
            take.Transaction = tx;
            take.CommandText = "DELETE FROM EarlyReports WHERE MessageId IN (SELECT value FROM json_each($ids)) RETURNING MessageId, Status, ErrorCode, ErrorMessage";
            take.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(messageIds));
            await using var reader = await take.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                early.Add(new DeliveryReport(reader.GetInt64(0), (MessageStatus)reader.GetInt32(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
            }
        }
        return early.Count == 0 ? [] : (await ApplyReportsAsync(connection, tx, early, ct)).Operations;
    }

    public async Task<long?> FindMessageByProviderIdAsync(string providerMessageId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var find = connection.CreateCommand();
        find.CommandText = "SELECT Id FROM Messages WHERE ProviderMessageId = $sid LIMIT 1";
        find.Parameters.AddWithValue("$sid", providerMessageId);
        return await find.ExecuteScalarAsync(ct) as long?;
    }

    public async Task<bool> ClaimInboundAsync(string providerMessageId, long now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var claim = connection.CreateCommand();
        claim.CommandText = "INSERT INTO ProcessedWebhooks (MessageSid, ReceivedAt) VALUES ($sid, $now) ON CONFLICT(MessageSid) DO NOTHING";
        claim.Parameters.AddWithValue("$sid", providerMessageId);
        claim.Parameters.AddWithValue("$now", now);
        return await claim.ExecuteNonQueryAsync(ct) > 0;
    }
}
