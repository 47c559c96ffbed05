namespace BulkCampaigns.Content;

/// <summary>
/// The channels, as stored and as the API writes them. A sender sends on SMS (which carries MMS), RCS or WhatsApp;
/// a recipient is reached on PHONE (SMS/MMS), RCS or WhatsApp.
/// </summary>
public static class ChannelNames
{
    public const string Sms = "SMS";
    public const string Mms = "MMS";
    public const string Rcs = "RCS";
    public const string WhatsApp = "WHATSAPP";
    public const string Phone = "PHONE";

    public static readonly IReadOnlyList<string> SenderChannels = [Sms, Rcs, WhatsApp];
    public static readonly IReadOnlyList<string> RecipientChannels = [Phone, Rcs, WhatsApp];

    /// <summary>A sender's channel as stored (MMS and PHONE are SMS), or null when it is none of them.</summary>
    public static string? ForSender(string? channel) => channel?.Trim().ToUpperInvariant() switch
    {
        Sms or Mms or Phone => Sms,
        Rcs => Rcs,
        WhatsApp => WhatsApp,
        _ => null,
    };

    /// <summary>A recipient's channel as stored (empty, SMS and MMS are PHONE), or null when it is none of them.</summary>
    public static string? ForRecipient(string? channel) => channel?.Trim().ToUpperInvariant() switch
    {
        "" or Phone or Sms or Mms => Phone,
        Rcs => Rcs,
        WhatsApp => WhatsApp,
        _ => null,
    };
}
