namespace BulkCampaigns.Hosting;

/// <summary>Bound from <c>Messaging:Simulated</c>.</summary>
public sealed class SimulatedOptions
{
    /// <summary>Time to accept one call; sends of one call are accepted in parallel, like concurrent requests.</summary>
    public int LatencyMs { get; set; } = 5;
    public double FailureRate { get; set; } = 0.01;
    public double UndeliveredRate { get; set; } = 0.02;
    public int DeliveryDelayMs { get; set; } = 2000;
}
