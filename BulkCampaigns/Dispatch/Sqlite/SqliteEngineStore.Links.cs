using System.Text;
using System.Text.Json;
using BulkCampaigns.Data;

namespace BulkCampaigns.Dispatch.Sqlite;

/// <summary>Tracked links: the redirect's look-up (a reader connection, never the writer) and rounds of clicks (a background writer).</summary>
public sealed partial class SqliteEngineStore
{
    private const string LinkMessageSql = """
        SELECT m.OperationId, m.Address, m.Channel, m.VariablesJson, o.ContentJson, o.FromAddress, o.FromChannel
        FROM Messages m JOIN Operations o ON o.Id = m.OperationId WHERE m.Id = $id
        """;

    private const string InsertClicksSql = """
        INSERT INTO LinkClicks (OperationId, MessageId, LinkIndex, Url, At)
        SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM jsonb_each($rows)
        """;

    // RETURNING may name only the updated table: whether a message was clicked before is told by Clicks = what was added.
    private const string CountMessageClicksSql = """
        UPDATE Messages SET Clicks = Clicks + j.n, ClickedAt = COALESCE(ClickedAt, j.t)
        FROM (SELECT value ->> 0 AS id, value ->> 1 AS n, value ->> 2 AS t FROM jsonb_each($rows)) AS j
        WHERE Messages.Id = j.id
        RETURNING Messages.Id, Messages.OperationId, Messages.Clicks
        """;

    private const string CountOperationClicksSql = "UPDATE Operations SET Clicked = Clicked + $clicked, Clicks = Clicks + $clicks WHERE Id = $op";

    public async Task<LinkMessage?> ReadLinkMessageAsync(long messageId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = LinkMessageSql;
        command.Parameters.AddWithValue("$id", messageId);
        await using var row = await command.ExecuteReaderAsync(ct);
        return await LinkMessage.ReadAsync(row, messageId, ct);
    }

    public async Task<IReadOnlyCollection<long>> RecordClicksAsync(IReadOnlyList<ClickRecord> clicks, CancellationToken ct)
    {
        if (clicks.Count == 0)
        {
            return [];
        }
        var perMessage = LinkClickRounds.PerMessage(clicks);
        var rows = new StringBuilder("[");
        foreach (var c in clicks)
        {
            rows.Append(rows.Length > 1 ? ",[" : "[").Append(c.OperationId).Append(',').Append(c.MessageId).Append(',').Append(c.LinkIndex).Append(',')
                .Append(JsonSerializer.Serialize(c.Url)).Append(',').Append(c.At).Append(']');
        }
        rows.Append(']');
        var messages = JsonSerializer.Serialize(perMessage.Select(p => new[] { p.Key, p.Value.Count, p.Value.First }));
        var perOperation = new Dictionary<long, (long Clicked, long Clicks)>();
        using (var writer = await gate.EnterBackgroundAsync(ct))
        {
            var connection = writer.Connection;
            await using var tx = connection.BeginTransaction();
            await using (var insert = connection.CreateCommand())
            {
                insert.Transaction = tx;
                insert.CommandText = InsertClicksSql;
                insert.Parameters.AddWithValue("$rows", rows.ToString());
                await insert.ExecuteNonQueryAsync(ct);
            }
            await using (var count = connection.CreateCommand())
            {
                count.Transaction = tx;
                count.CommandText = CountMessageClicksSql;
                count.Parameters.AddWithValue("$rows", messages);
                await using var updated = await count.ExecuteReaderAsync(ct);
                while (await updated.ReadAsync(ct))
                {
                    var added = perMessage[updated.GetInt64(0)].Count;
                    var operationId = updated.GetInt64(1);
                    var first = updated.GetInt64(2) == added;
                    var (clicked, all) = perOperation.GetValueOrDefault(operationId);
                    perOperation[operationId] = (clicked + (first ? 1 : 0), all + added);
                }
            }
            foreach (var (operationId, (clicked, all)) in perOperation)
            {
                await using var counters = connection.CreateCommand();
                counters.Transaction = tx;
                counters.CommandText = CountOperationClicksSql;
                counters.Parameters.AddWithValue("$clicked", clicked);
                counters.Parameters.AddWithValue("$clicks", all);
                counters.Parameters.AddWithValue("$op", operationId);
                await counters.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
        }
        return perOperation.Keys;
    }
}

/// <summary>A round of clicks per message: how many, and the first one's time.</summary>
internal static class LinkClickRounds
{
    public static Dictionary<long, (long Count, long First)> PerMessage(IReadOnlyList<ClickRecord> clicks)
    {
        var perMessage = new Dictionary<long, (long Count, long First)>();
        foreach (var c in clicks)
        {
            perMessage[c.MessageId] = perMessage.TryGetValue(c.MessageId, out var seen) ? (seen.Count + 1, Math.Min(seen.First, c.At)) : (1, c.At);
        }
        return perMessage;
    }
}
