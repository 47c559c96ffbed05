namespace BulkCampaigns.Hosting;

/// <summary>Bound from <c>Messaging</c>: which provider sends, the region numbers without a country code are read in, and each provider's settings.</summary>
public sealed class MessagingOptions
{
    public const string Section = "Messaging";

    /// <summary><c>Simulated</c> (the default) or <c>Twilio</c>.</summary>
    public string Provider { get; set; } = "Simulated";

    /// <summary>As written in the settings; read <see cref="Region"/>.</summary>
    public string DefaultRegion { get; set; } = "US";

    public SimulatedOptions Simulated { get; set; } = new();
    public TwilioOptions Twilio { get; set; } = new();

    public bool UsesTwilio => string.Equals(Provider, "Twilio", StringComparison.OrdinalIgnoreCase);

    /// <summary>The two-letter region a number without a country code is read in (<c>US</c> unless set).</summary>
    public string Region => DefaultRegion is { Length: 2 } region ? region.ToUpperInvariant() : "US";

    /// <summary>The section as bound, for the few readers that run before the container is built.</summary>
    public static MessagingOptions From(IConfiguration configuration) =>
        configuration.GetSection(Section).Get<MessagingOptions>() ?? new MessagingOptions();
}
