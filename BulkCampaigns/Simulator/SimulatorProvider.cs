using BulkCampaigns.Hosting;
using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Dispatch.Providers;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Simulator;

/// <summary>
/// The built-in carrier: records every send it accepts in SQLite (no deduplication), answers with a
/// provider message id, fails <c>FailureRate</c> of sends at once and reports delivery later.
/// A send is accepted only once its record is committed, so after a crash the record tells what was received.
/// </summary>
public sealed class SimulatorProvider(DatabaseConnection database, WriteGate gate, IOptionsMonitor<SimulatedOptions> options, TimeProvider clock) : IMessageProvider
{
    public const string IdPrefix = "SIM";

    public string Name => "Simulated";

    public async Task<IReadOnlyList<SendResult>> SendAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken ct)
    {
        var settings = options.CurrentValue;
        if (settings.LatencyMs > 0)
        {
            await Task.Delay(settings.LatencyMs, ct);
        }
        var results = new SendResult[messages.Count];
        var accepted = new List<int>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            if (settings.FailureRate > 0 && Random.Shared.NextDouble() < settings.FailureRate)
            {
                results[i] = new SendResult(SendOutcome.Failed, ErrorCode: "30008", ErrorMessage: "Unknown error (simulated failure)", Retryable: true);
            }
            else
            {
                accepted.Add(i);
            }
        }
        if (accepted.Count == 0)
        {
            return results;
        }

        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        // One set-based insert per call, the rows going in as one JSON array parameter. A call from one sender
        // without media (nearly all) leaves those fields out: every field pulled out of the JSON per row costs.
        var from = messages[accepted[0]].From;
        var plain = accepted.All(i => messages[i].From == from && messages[i].Media.Count == 0);
        var buffer = new ArrayBufferWriter<byte>(accepted.Count * 128);
        await using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var i in accepted)
            {
                var m = messages[i];
                json.WriteStartArray();
                json.WriteNumberValue(m.MessageId);
                json.WriteStringValue(m.To);
                json.WriteStringValue(m.Body);
                json.WriteNumberValue(settings.UndeliveredRate > 0 && Random.Shared.NextDouble() < settings.UndeliveredRate ? 0 : 1);
                if (!plain)
                {
                    json.WriteStringValue(m.From);
                    json.WriteStringValue(m.Media.Count == 0 ? "[]" : JsonSerializer.Serialize(m.Media));
                }
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        using (var writer = await gate.EnterAsync(ct))
        {
            var connection = writer.Connection;
            await using var tx = connection.BeginTransaction();
            await using var insert = connection.CreateCommand();
            insert.Transaction = tx;
            // No RETURNING: one writer inserting in array order under AUTOINCREMENT gives the rows consecutive IDs,
            // so the last one and the count name them all.
            insert.CommandText = $"""
                INSERT INTO SimulatorMessages ("From", "To", Body, MediaJson, ReceivedAt, CallbackMessageId, WillDeliver, ReportDueAt)
                SELECT {(plain ? "$from, value ->> 1, value ->> 2, '[]'" : "value ->> 4, value ->> 1, value ->> 2, value ->> 5")},
                       $now, value ->> 0, value ->> 3, $due FROM json_each($rows) ORDER BY key;
                SELECT last_insert_rowid(), changes();
                """;
            insert.Parameters.AddWithValue("$from", from);
            insert.Parameters.AddWithValue("$now", now);
            insert.Parameters.AddWithValue("$due", now + settings.DeliveryDelayMs);
            insert.Parameters.AddWithValue("$rows", Encoding.UTF8.GetString(buffer.WrittenSpan));
            long last, count;
            using (var step = WriterTrace.Step("simulator.insert"))
            await using (var reader = await insert.ExecuteReaderAsync(ct))
            {
                step.Count(accepted.Count);
                await reader.ReadAsync(ct);
                last = reader.GetInt64(0);
                count = reader.GetInt64(1);
            }
            if (count != accepted.Count)
            {
                throw new InvalidOperationException($"The simulator recorded {count} of {accepted.Count} messages.");
            }
            using (WriterTrace.Step("simulator.commit"))
            {
                await tx.CommitAsync(ct);
            }
            for (var k = 0; k < accepted.Count; k++)
            {
                results[accepted[k]] = SendResult.Accepted(ProviderId(last - accepted.Count + 1 + k));
            }
        }
        return results;
    }

    public async Task<ProviderRecord?> FindAsync(string from, string to, DateTimeOffset after, string body, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT Id, ReceivedAt FROM SimulatorMessages
            WHERE "To" = $to AND "From" = $from AND ReceivedAt >= $after AND Body = $body
            ORDER BY Id LIMIT 1
            """;
        command.Parameters.AddWithValue("$to", to);
        command.Parameters.AddWithValue("$from", from);
        command.Parameters.AddWithValue("$after", after.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$body", body);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new ProviderRecord(ProviderId(reader.GetInt64(0)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)))
            : null;
    }

    public static string ProviderId(long id) => IdPrefix + id.ToString("x10", CultureInfo.InvariantCulture);
}
