using System.Globalization;
using System.Text.Json;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
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
        await using var connection = await database.OpenAsync(ct);
        using (await gate.EnterAsync(ct))
        {
            await using var tx = connection.BeginTransaction();
            await using var insert = connection.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = """
                INSERT INTO SimulatorMessages ("From", "To", Body, MediaJson, ReceivedAt, CallbackMessageId, WillDeliver, ReportDueAt, Reported)
                VALUES ($from, $to, $body, $media, $now, $callback, $deliver, $due, 0) RETURNING Id
                """;
            var from = insert.Parameters.Add("$from", Microsoft.Data.Sqlite.SqliteType.Text);
            var to = insert.Parameters.Add("$to", Microsoft.Data.Sqlite.SqliteType.Text);
            var body = insert.Parameters.Add("$body", Microsoft.Data.Sqlite.SqliteType.Text);
            var media = insert.Parameters.Add("$media", Microsoft.Data.Sqlite.SqliteType.Text);
            insert.Parameters.AddWithValue("$now", now);
            var callback = insert.Parameters.Add("$callback", Microsoft.Data.Sqlite.SqliteType.Integer);
            var deliver = insert.Parameters.Add("$deliver", Microsoft.Data.Sqlite.SqliteType.Integer);
            insert.Parameters.AddWithValue("$due", now + settings.DeliveryDelayMs);
            insert.Prepare();
            foreach (var i in accepted)
            {
                var m = messages[i];
                from.Value = m.From;
                to.Value = m.To;
                body.Value = m.Body;
                media.Value = m.Media.Count == 0 ? "[]" : JsonSerializer.Serialize(m.Media);
                callback.Value = m.MessageId;
                deliver.Value = settings.UndeliveredRate > 0 && Random.Shared.NextDouble() < settings.UndeliveredRate ? 0 : 1;
                var id = (long)(await insert.ExecuteScalarAsync(ct))!;
                results[i] = SendResult.Accepted(ProviderId(id));
            }
            await tx.CommitAsync(ct);
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
