using System.Data.Common;
using BulkCampaigns.Operations;

namespace BulkCampaigns.Dispatch;

/// <summary>The result of writing a stretch of outcomes: the messages written, and whether that finished the operation.</summary>
public sealed record RecordedOutcomes(HashSet<long> Written, bool Completed);

/// <summary>
/// The engine's hot statements, behind one interface so another database can take them (SQLite now:
/// <see cref="Sqlite.SqliteEngineStore"/>). A batch reads on its own connection (<see cref="OpenReaderAsync"/>); every
/// write goes through the single writer.
/// </summary>
public partial interface IEngineStore
{
    /// <summary>A connection of the batch's own for its reads (the operation's status, its messages).</summary>
    Task<DbConnection> OpenReaderAsync(CancellationToken ct);

    /// <summary>SCHEDULED → PROCESSING with its messages QUEUED; false when it was canceled, paused or already started.</summary>
    Task<bool> StartAsync(long operationId, long now, CancellationToken ct);

    Task<BatchOperation?> LoadOperationAsync(DbConnection connection, long operationId, CancellationToken ct);

    /// <summary>Claims the QUEUED messages of the batch's ID range (QUEUED → SENDING) while the operation is processing.</summary>
    Task<List<BatchMessage>> ClaimAsync(DbConnection reader, long operationId, long fromId, long toId, DateTimeOffset claimedAt, CancellationToken ct);

    /// <summary>The operation's SENDING messages claimed at or before <paramref name="claimedBefore"/>, with their claim time.</summary>
    Task<List<(BatchMessage Message, DateTimeOffset ClaimedAt)>> ReadInFlightAsync(DbConnection connection, long operationId, DateTimeOffset? claimedBefore, Func<long, bool>? held, CancellationToken ct);

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
