namespace BulkCampaigns.Hosting;

public static class SettingsSetup
{
    /// <summary>The settings sections more than one feature reads, each bound once to its options class.</summary>
    public static IServiceCollection AddSettings(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<MessagingOptions>(configuration.GetSection(MessagingOptions.Section));
        // The simulator reads its own sub-section, so a test can change it alone. TwilioOptions is bound only when
        // Twilio sends (AddTwilioProvider): otherwise its webhooks refuse every request.
        services.Configure<SimulatedOptions>(configuration.GetSection($"{MessagingOptions.Section}:Simulated"));
        services.Configure<LimitsOptions>(configuration.GetSection(LimitsOptions.Section));
        return services;
    }
}
