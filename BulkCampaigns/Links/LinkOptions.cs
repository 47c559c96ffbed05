namespace BulkCampaigns.Links;

/// <summary>Bound from <c>Links</c>.</summary>
public sealed class LinkOptions
{
    public const string Section = "Links";

    /// <summary>
    /// The host of tracked short links (<c>https://go.example.com</c>); unset: <c>Messaging:Twilio:PublicBaseUrl</c>, else the
    /// address this app listens on. Every node must use the same, as the preview counts its length.
    /// </summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>Redirects per second allowed to one client address, and the burst above it; past it <c>429</c>.</summary>
    public int PermitsPerSecond { get; set; } = 20;
    public int Burst { get; set; } = 60;

    /// <summary>Clicks waiting to be written; past it a click still redirects but is not counted (and logged).</summary>
    public int QueueCapacity { get; set; } = 100_000;

    /// <summary>How long the writer gathers clicks before writing them (one transaction per round).</summary>
    public int FlushIntervalMs { get; set; } = 200;
}
