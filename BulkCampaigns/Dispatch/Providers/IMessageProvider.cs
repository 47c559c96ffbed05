namespace BulkCampaigns.Dispatch.Providers;

/// <param name="MessageId">Our message row: the provider hands it back with delivery reports.</param>
/// <param name="From">The sender's address, or a Twilio Messaging Service SID (<c>MG…</c>).</param>
/// <param name="Body">What the phone shows; for a Twilio template, its text filled with <paramref name="ContentVariables"/>.</param>
/// <param name="ContentSid">A Twilio template (<c>HX…</c>): sent instead of the body.</param>
/// <param name="ContentVariables">The template's rendered variables, a JSON object, as Twilio's <c>ContentVariables</c>.</param>
public sealed record OutgoingMessage(long MessageId, string From, string To, string Channel, string Body, IReadOnlyList<string> Media,
    string? ContentSid = null, string? ContentVariables = null);

public enum SendOutcome
{
    Accepted,

    /// <summary>Try again later (HTTP 429, 5xx, timeout).</summary>
    Transient,
    Failed,

    /// <summary>The number can't receive messages (invalid, landline …).</summary>
    Unaddressable,

    /// <summary>The recipient opted out at the carrier: FAILED, and the address is suppressed.</summary>
    Unsubscribed,
}

/// <param name="RetryAfter">The provider's Retry-After, for transient errors.</param>
/// <param name="Ambiguous">The provider may have accepted it (a timeout): ask it before sending again.</param>
/// <param name="Retryable">For FAILED: whether a later retry may succeed.</param>
public sealed record SendResult(
    SendOutcome Outcome,
    string? ProviderMessageId = null,
    string? ErrorCode = null,
    string? ErrorMessage = null,
    TimeSpan? RetryAfter = null,
    bool Ambiguous = false,
    bool Retryable = false)
{
    public static SendResult Accepted(string providerMessageId) => new(SendOutcome.Accepted, providerMessageId);
}

/// <summary>A provider's record of a message it received, found when settling sends interrupted by a crash.</summary>
public sealed record ProviderRecord(string ProviderMessageId, DateTimeOffset ReceivedAt);

/// <summary>The one small interface behind which the Simulator and Twilio sit.</summary>
public interface IMessageProvider
{
    string Name { get; }

    /// <summary>Sends each message once; one result per message, in order. Never throws for a single message's failure.</summary>
    Task<IReadOnlyList<SendResult>> SendAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken ct);

    /// <summary>What the provider received from <paramref name="from"/> to <paramref name="to"/> at or after <paramref name="after"/> with this body, or null.</summary>
    Task<ProviderRecord?> FindAsync(string from, string to, string channel, DateTimeOffset after, string body, CancellationToken ct);
}
