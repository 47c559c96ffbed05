using System.Data.Common;
using BulkCampaigns.Operations;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// The result of writing a stretch of outcomes: the messages written, whether that finished the operation, and the
/// ranges whose claim ended while another run of them was refused (to be sent again).
/// </summary>
public sealed record RecordedOutcomes(HashSet<long> Written, bool Completed, List<(long FromId, long ToId)> Requeue);

/// <summary>
/// Messages claimed and not written, to settle with the provider: a claimed range (<see cref="Id"/> of its
/// <see cref="ClaimedBatch"/>), or, with <see cref="Id"/> 0, messages SENDING on their own rows claimed at one time.
/// </summary>
public sealed record InFlightClaim(long Id, DateTimeOffset ClaimedAt, List<BatchMessage> Messages)
{
    /// <summary>
    /// Messages SENDING on their own rows (as versions before claimed ranges wrote them), read as (ID, address, channel,
    /// variables, claimed at) and grouped by claim time; those <paramref name="held"/> (a running batch's) are left out.
    /// </summary>
    public static async Task<List<InFlightClaim>> ReadSendingAsync(DbDataReader reader, Func<long, bool>? held, CancellationToken ct)
    {
        var byTime = new Dictionary<long, List<BatchMessage>>();
        while (await reader.ReadAsync(ct))
        {
            if (held?.Invoke(reader.GetInt64(0)) == true)
            {
                continue;
            }
            var at = reader.GetInt64(4);
            if (!byTime.TryGetValue(at, out var list))
            {
                byTime[at] = list = [];
            }
            list.Add(new BatchMessage(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        }
        return byTime.Select(l => new InFlightClaim(0, DateTimeOffset.FromUnixTimeMilliseconds(l.Key), l.Value)).ToList();
    }
}

/// <summary>
/// Every statement of the engine, behind one interface so another database can take them (SQLite now:
/// <see cref="Sqlite.SqliteEngineStore"/>). Members take and answer plain values, records and lists. A batch reads on
/// its own connection (<see cref="OpenReaderAsync"/>); every write goes through the single writer. This file holds the
/// batch and its control; the other areas are in <c>IEngineStore.Creation.cs</c>, <c>.Reports.cs</c>,
/// <c>.Simulator.cs</c> and <c>.Counters.cs</c>.
/// </summary>
public partial interface IEngineStore
{
    /// <summary>A connection of the batch's own for its reads (the operation's status, its messages).</summary>
    Task<DbConnection> OpenReaderAsync(CancellationToken ct);

    /// <summary>SCHEDULED → PROCESSING with its messages QUEUED; false when it was canceled, paused or already started.</summary>
    Task<bool> StartAsync(long operationId, long now, CancellationToken ct);

    Task<BatchOperation?> LoadOperationAsync(DbConnection connection, long operationId, CancellationToken ct);

    /// <summary>
    /// Claims the QUEUED messages of the batch's ID range while the operation is processing and no other claim of the
    /// range is in flight (one <see cref="ClaimedBatch"/> row owned by <paramref name="lease"/>'s node; counted as SENDING).
    /// Each message carries its claim.
    /// </summary>
    Task<List<BatchMessage>> ClaimAsync(DbConnection reader, long operationId, long fromId, long toId, DateTimeOffset claimedAt, ClaimLease lease, CancellationToken ct);

    /// <summary>
    /// The operation's claims whose lease ran out (on the database's clock), made at or before <paramref name="claimedBefore"/>
    /// and not <paramref name="held"/> (asked with a message ID: the first of a range), with their messages not written yet.
    /// </summary>
    Task<List<InFlightClaim>> ReadInFlightAsync(DbConnection connection, long operationId, DateTimeOffset? claimedBefore, Func<long, bool>? held, CancellationToken ct);

    /// <summary>
    /// Ends a claimed range whose lease ran out (else nothing is written: its node renewed it) after asking the provider: <paramref name="received"/> (the ones it has) are written SENT,
    /// the rest of the claim goes back to QUEUED (CANCELED if the operation was canceled), with the counters, in one transaction.
    /// </summary>
    Task<RecordedOutcomes> SettleClaimAsync(long operationId, long claimId, List<BatchMessage> received, long now, CancellationToken ct);

    /// <summary>Writes settled messages, their counters, provider unsubscribes and early reports, and completes a finished operation, in one transaction.</summary>
    Task<RecordedOutcomes> RecordAsync(long operationId, List<BatchMessage> settled, long now, CancellationToken ct);

    /// <summary>Marks a PROCESSING operation COMPLETED when nothing is left to send; true when it did.</summary>
    Task<bool> CompleteIfDoneAsync(long operationId, CancellationToken ct);

    Task<OperationStatus?> ReadStatusAsync(long operationId, CancellationToken ct);

    /// <summary>Moves the operation from one of <paramref name="from"/> to <paramref name="to"/>; null when it did, else why not.</summary>
    Task<ControlResult?> TransitionAsync(long operationId, OperationStatus[] from, OperationStatus to, string? reason, CancellationToken ct);

    /// <summary>
    /// Moves the operation's messages in <paramref name="from"/> (only the retryable ones when asked) to <paramref name="to"/>,
    /// with the counters; <paramref name="reopen"/> makes a COMPLETED operation PROCESSING again. Answers how many moved.
    /// </summary>
    Task<int> MoveMessagesAsync(long operationId, MessageStatus from, MessageStatus to, CancellationToken ct, bool onlyRetryable = false, bool reopen = false);
}
