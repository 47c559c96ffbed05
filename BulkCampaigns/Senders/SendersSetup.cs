namespace BulkCampaigns.Senders;

public static class SendersSetup
{
    /// <summary>Senders (the <c>from</c> addresses and their MPS); the engine reads them, they know nothing of the engine.</summary>
    public static IServiceCollection AddSenders(this IServiceCollection services) => services.AddSingleton<SenderService>();
}
