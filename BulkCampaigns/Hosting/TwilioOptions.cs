namespace BulkCampaigns.Hosting;

/// <summary>Bound from <c>Messaging:Twilio</c>.</summary>
public sealed class TwilioOptions
{
    public string AccountSid { get; set; } = "";
    public string AuthToken { get; set; } = "";
    public string BaseUrl { get; set; } = "https://api.twilio.com";

    /// <summary>Where Twilio reaches this app (status callbacks); none: no callbacks are asked for.</summary>
    public string PublicBaseUrl { get; set; } = "";

    /// <summary>Optional: send through a Messaging Service instead of the sender's number.</summary>
    public string MessagingServiceSid { get; set; } = "";

    /// <summary>Twilio's Content API, where the account's templates are listed (a local fake in tests).</summary>
    public string ContentBaseUrl { get; set; } = "https://content.twilio.com";
}
