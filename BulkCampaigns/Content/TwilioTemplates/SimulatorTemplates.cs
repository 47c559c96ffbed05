namespace BulkCampaigns.Content.TwilioTemplates;

/// <summary>
/// The Simulator's templates: a small fixed set shaped like Twilio's, one of each WhatsApp approval state, so the
/// designer, the wizard's WhatsApp rules and a send with a template can be tried without a Twilio account.
/// </summary>
public sealed class SimulatorTemplates(TimeProvider clock) : ITwilioTemplateSource
{
    public const string OrderUpdate = "HX1b2c3d4e5f60718293a4b5c6d7e8f901";
    public const string AppointmentReminder = "HX2b2c3d4e5f60718293a4b5c6d7e8f902";
    public const string SpringSaleCard = "HX3b2c3d4e5f60718293a4b5c6d7e8f903";
    public const string LoginCode = "HX4b2c3d4e5f60718293a4b5c6d7e8f904";

    public static readonly IReadOnlyList<TwilioTemplate> All =
    [
        new(OrderUpdate, "order_update", "en", new Dictionary<string, string> { ["1"] = "Ann", ["2"] = "A-1001" },
            ["twilio/text"], "Hi {{1}}, your order {{2}} has shipped. Track it in the app.", new(TwilioTemplate.Approved)),
        new(AppointmentReminder, "appointment_reminder", "en", new Dictionary<string, string> { ["1"] = "Ann", ["2"] = "12 May, 10:30" },
            ["twilio/text", "twilio/quick-reply"], "Hello {{1}}, this is a reminder of your appointment on {{2}}. Reply C to confirm.", new(TwilioTemplate.Approved)),
        new(SpringSaleCard, "spring_sale_card", "en", new Dictionary<string, string> { ["1"] = "Ann", ["2"] = "20%" },
            ["twilio/card"], "Spring sale\n{{1}}, take {{2}} off everything today.", new("pending")),
        new(LoginCode, "login_code", "en", new Dictionary<string, string> { ["1"] = "123456" },
            ["twilio/text"], "Your login code is {{1}}. It expires in 10 minutes.", new("rejected")),
    ];

    public Task<TwilioTemplateCatalogue> ListAsync(bool refresh, CancellationToken ct) =>
        Task.FromResult(new TwilioTemplateCatalogue(All, clock.GetUtcNow()));
}
