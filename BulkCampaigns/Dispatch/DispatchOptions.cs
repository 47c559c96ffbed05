namespace BulkCampaigns.Dispatch;

/// <summary>Bound from <c>Dispatch</c>.</summary>
public sealed class DispatchOptions
{
    /// <summary>Messages per batch job.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>Most messages handed to the provider in one call (the pacer may make chunks smaller).</summary>
    public int MaxChunk { get; set; } = 1000;

    /// <summary>Concurrent provider requests per chunk, for providers that send one message per request.</summary>
    public int ProviderConcurrency { get; set; } = 16;

    /// <summary>Provider calls per message before a transient error is written as FAILED (retryable).</summary>
    public int MaxSendAttempts { get; set; } = 5;

    /// <summary>First wait after a transient error; doubles each attempt, never below the provider's Retry-After.</summary>
    public int RetryBaseDelayMs { get; set; } = 200;

    /// <summary>Longest time a job keeps results before writing them (progress freshness).</summary>
    public int FlushIntervalMs { get; set; } = 1000;

    /// <summary>Auto-pause when more than this share of the last <see cref="FailureWindow"/> sends failed.</summary>
    public double AutoPauseFailureShare { get; set; } = 0.5;
    public int FailureWindow { get; set; } = 1000;

    /// <summary>Sends needed in the window before auto-pause may judge.</summary>
    public int FailureWindowMinimum { get; set; } = 100;

    /// <summary>
    /// How often claims whose lease ran out (a batch that stopped on an error, a node that died) are looked for: with
    /// the 30 s lease (<see cref="NodeOptions.LeaseSeconds"/>) another node takes a dead node's batches within 45 s.
    /// </summary>
    public int InFlightSweepSeconds { get; set; } = 15;

    /// <summary>A claim (or a message SENDING on its own row, from older versions) is swept only once it is this old.</summary>
    public int InFlightStaleSeconds { get; set; } = 30;

    /// <summary>
    /// A running operation with QUEUED messages, none in flight, whose counts have not moved for this long has lost its
    /// batch jobs: <see cref="StallRescue"/> queues them again (checked at each in-flight sweep).
    /// </summary>
    public int StalledSeconds { get; set; } = 30;
}
