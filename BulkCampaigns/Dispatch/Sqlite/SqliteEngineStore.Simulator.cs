using BulkCampaigns.Data;
using System.Buffers;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Operations;

namespace BulkCampaigns.Dispatch.Sqlite;

/// <summary>The Simulator's carrier: what it received, and its delivery reports.</summary>
public sealed partial class SqliteEngineStore
{
    private const string FindSimulatedSql = """
        SELECT Id, ReceivedAt FROM SimulatorMessages
        WHERE "To" = $to AND "From" = $from AND ReceivedAt >= $after AND Body = $body
        ORDER BY Id LIMIT 1
        """;

    private static readonly string SimulatedWindowSql = $"""
        WITH w AS MATERIALIZED (
            SELECT s.Id, s.ReportDueAt, s.CallbackMessageId FROM SimulatorMessages s
            WHERE s.Id > (SELECT ReportedThroughId FROM SimulatorReportMarks WHERE Id = 1) ORDER BY s.Id LIMIT $limit)
        SELECT (SELECT ReportedThroughId FROM SimulatorReportMarks WHERE Id = 1),
               COALESCE((SELECT MIN(w.Id) - 1 FROM w LEFT JOIN Messages m ON m.Id = w.CallbackMessageId
                         WHERE w.ReportDueAt > $now OR m.Status = {Sending}
                            OR (m.Status = {(int)MessageStatus.Queued} AND EXISTS (SELECT 1 FROM ClaimedBatches c WHERE c.OperationId = m.OperationId AND m.Id BETWEEN c.FromId AND c.ToId))),
                         (SELECT MAX(Id) FROM w))
        """;

    private static readonly string SimulatedApplySql = $"""
        UPDATE Messages SET
            Status = CASE WHEN d.WillDeliver = 1 THEN {(int)MessageStatus.Delivered} ELSE {(int)MessageStatus.Undelivered} END,
            ErrorCode = CASE WHEN d.WillDeliver = 1 THEN ErrorCode ELSE '30003' END,
            ErrorMessage = CASE WHEN d.WillDeliver = 1 THEN ErrorMessage ELSE 'Unreachable destination handset (simulated)' END,
            UpdatedAt = $now
        FROM (SELECT CallbackMessageId, WillDeliver FROM SimulatorMessages WHERE Id > $mark AND Id <= $through) AS d
        WHERE Messages.Id = d.CallbackMessageId AND Messages.Status = {Sent}
        RETURNING Messages.OperationId, Messages.Status
        """;

    public async Task<long[]> RecordSimulatedAsync(IReadOnlyList<SimulatedSend> sends, long now, long reportDueAt, CancellationToken ct)
    {
        // One set-based insert per call, the rows going in as one JSON array parameter. A call from one sender
        // without media (nearly all) leaves those fields out: every field pulled out of the JSON per row costs.
        var from = sends[0].From;
        var plain = sends.All(s => s.From == from && s.Media.Count == 0);
        var buffer = new ArrayBufferWriter<byte>(sends.Count * 128);
        await using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var s in sends)
            {
                json.WriteStartArray();
                json.WriteNumberValue(s.MessageId);
                json.WriteStringValue(s.To);
                json.WriteStringValue(s.Body);
                json.WriteNumberValue(s.WillDeliver ? 1 : 0);
                if (!plain)
                {
                    json.WriteStringValue(s.From);
                    json.WriteStringValue(s.Media.Count == 0 ? "[]" : JsonSerializer.Serialize(s.Media));
                }
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        using var writer = await gate.EnterAsync(ct);
        var connection = writer.Connection;
        await using var tx = connection.BeginTransaction();
        await using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        // No RETURNING: one writer inserting in array order under AUTOINCREMENT gives the rows consecutive IDs,
        // so the last one and the count name them all.
        insert.CommandText = $"""
            INSERT INTO SimulatorMessages ("From", "To", Body, MediaJson, ReceivedAt, CallbackMessageId, WillDeliver, ReportDueAt)
            SELECT {(plain ? "$from, value ->> 1, value ->> 2, '[]'" : "value ->> 4, value ->> 1, value ->> 2, value ->> 5")},
                   $now, value ->> 0, value ->> 3, $due FROM jsonb_each($rows) ORDER BY key;
            SELECT last_insert_rowid(), changes();
            """;
        insert.Parameters.AddWithValue("$from", from);
        insert.Parameters.AddWithValue("$now", now);
        insert.Parameters.AddWithValue("$due", reportDueAt);
        insert.Parameters.AddWithValue("$rows", Encoding.UTF8.GetString(buffer.WrittenSpan));
        long last, count;
        using (var step = WriterTrace.Step("simulator.insert"))
        {
            await using var reader = await insert.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            last = reader.GetInt64(0);
            count = reader.GetInt64(1);
            step.Count((int)count);
        }
        if (count != sends.Count)
        {
            throw new InvalidOperationException($"The simulator recorded {count} of {sends.Count} messages.");
        }
        using (WriterTrace.Step("simulator.commit"))
        {
            await tx.CommitAsync(ct);
        }
        var ids = new long[sends.Count];
        for (var k = 0; k < ids.Length; k++)
        {
            ids[k] = last - ids.Length + 1 + k;
        }
        return ids;
    }

    public async Task<(long Id, DateTimeOffset ReceivedAt)?> FindSimulatedAsync(string from, string to, DateTimeOffset after, string body, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = FindSimulatedSql;
        command.Parameters.AddWithValue("$to", to);
        command.Parameters.AddWithValue("$from", from);
        command.Parameters.AddWithValue("$after", after.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$body", body);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? (reader.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)))
            : null;
    }

    public async Task<SimulatedReports> ReportSimulatedAsync(long now, int limit, CancellationToken ct)
    {
        var deltas = new Dictionary<long, StatsDelta>();
        long mark, through;
        // Reports yield to sending: a campaign's sends go first, reports catch up (never starved, see WriteGate).
        using (var writer = await gate.EnterBackgroundAsync(ct))
        {
            var connection = writer.Connection;
            await using var tx = connection.BeginTransaction();
            using (WriterTrace.Step("report.window"))
            await using (var window = connection.CreateCommand())
            {
                window.Transaction = tx;
                window.CommandText = SimulatedWindowSql;
                window.Parameters.AddWithValue("$now", now);
                window.Parameters.AddWithValue("$limit", limit);
                await using var reader = await window.ExecuteReaderAsync(ct);
                await reader.ReadAsync(ct);
                mark = reader.GetInt64(0);
                through = reader.IsDBNull(1) ? mark : reader.GetInt64(1);
            }
            if (through <= mark)
            {
                return new SimulatedReports(0, []);
            }
            using (var step = WriterTrace.Step("report.apply"))
            await using (var apply = connection.CreateCommand())
            {
                // Only SENT messages move on: a report for a message already moved on (a duplicate send) changes nothing.
                apply.Transaction = tx;
                apply.CommandText = SimulatedApplySql;
                apply.Parameters.AddWithValue("$now", now);
                apply.Parameters.AddWithValue("$mark", mark);
                apply.Parameters.AddWithValue("$through", through);
                await using var reader = await apply.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var operationId = reader.GetInt64(0);
                    if (!deltas.TryGetValue(operationId, out var delta))
                    {
                        deltas[operationId] = delta = new StatsDelta();
                    }
                    delta.Move(MessageStatus.Sent, (MessageStatus)reader.GetInt32(1));
                    step.Count(1);
                }
            }
            await using (var move = connection.CreateCommand())
            {
                move.Transaction = tx;
                move.CommandText = "UPDATE SimulatorReportMarks SET ReportedThroughId = $through WHERE Id = 1";
                move.Parameters.AddWithValue("$through", through);
                await move.ExecuteNonQueryAsync(ct);
            }
            foreach (var (operationId, delta) in deltas)
            {
                await delta.ApplyAsync(connection, tx, operationId, now, ct);
            }
            using (WriterTrace.Step("report.commit"))
            {
                await tx.CommitAsync(ct);
            }
        }
        return new SimulatedReports((int)Math.Min(limit, through - mark), deltas.Keys);
    }
}
