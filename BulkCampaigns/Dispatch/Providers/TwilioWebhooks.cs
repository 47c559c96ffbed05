using BulkCampaigns.Operations;
using BulkCampaigns.Data;
using BulkCampaigns.Hosting;
using BulkCampaigns.Recipients;
using BulkCampaigns.Suppressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Options;
using Twilio.Security;

namespace BulkCampaigns.Dispatch.Providers;

/// <summary>
/// An inbound message already acted on, by its Twilio <c>MessageSid</c>: a replay of a validly signed request
/// (an old <c>STOP</c> sent again after the person wrote <c>START</c>) must not act twice.
/// </summary>
public sealed class ProcessedWebhook
{
    public string MessageSid { get; set; } = "";
    public DateTimeOffset ReceivedAt { get; set; }
}

internal sealed class ProcessedWebhookConfiguration : IEntityTypeConfiguration<ProcessedWebhook>
{
    public void Configure(EntityTypeBuilder<ProcessedWebhook> builder)
    {
        builder.ToTable("ProcessedWebhooks");
        builder.HasKey(w => w.MessageSid);
        builder.Property(w => w.MessageSid).HasMaxLength(64);
        builder.Property(w => w.ReceivedAt).HasConversion(UnixMs.Converter);
    }
}

/// <summary>
/// Twilio's callbacks, outside <c>/v1</c> and anonymous: the <c>X-Twilio-Signature</c> is the
/// authentication. A bad or missing signature gets 403 and changes nothing.
/// </summary>
public static class TwilioWebhooks
{
    private static readonly HashSet<string> StopWords = new(StringComparer.OrdinalIgnoreCase) { "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT" };
    private static readonly HashSet<string> StartWords = new(StringComparer.OrdinalIgnoreCase) { "START", "UNSTOP", "YES" };

    /// <summary>
    /// Twilio's callbacks are a few KB (an inbound body is at most 1,600 characters, plus up to 10 media URLs);
    /// anything far larger is not from Twilio and is refused before it is read.
    /// </summary>
    public const int MaxFormBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapTwilioWebhooks(this IEndpointRouteBuilder app)
    {
        var hooks = app.MapGroup("/webhooks/twilio").AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        hooks.MapPost("/status", StatusAsync);
        hooks.MapPost("/inbound", InboundAsync);
        return app;
    }

    private static async Task<IResult> StatusAsync(HttpRequest request, IServiceProvider services, CancellationToken ct)
    {
        var (form, refusal) = await SignedFormAsync(request, services, ct);
        if (form is null)
        {
            return refusal!;
        }
        var status = TwilioProvider.MapStatus(form.GetValueOrDefault("MessageStatus"));
        if (status is null or MessageStatus.Sent)
        {
            return Results.NoContent();
        }
        var store = services.GetRequiredService<IEngineStore>();
        long? messageId = null;
        if (PublicId.TryDecode(PublicId.Message, request.Query["messageId"].ToString(), out var fromQuery))
        {
            messageId = fromQuery;
        }
        else if (form.GetValueOrDefault("MessageSid") is { Length: > 0 } sid)
        {
            messageId = await store.FindMessageByProviderIdAsync(sid, ct);
        }
        if (messageId is not { } id)
        {
            return Results.NoContent();
        }
        var errorCode = form.GetValueOrDefault("ErrorCode");
        var message = string.IsNullOrEmpty(errorCode) ? null : $"Twilio error {errorCode}";
        // A report for a message still being written as SENT is kept by the store and applied when it is written.
        var applied = await store.ApplyReportsAsync([new DeliveryReport(id, status.Value, string.IsNullOrEmpty(errorCode) ? null : errorCode, message)], ct);
        services.GetRequiredService<OperationProgress>().Publish(applied.Operations);
        if (errorCode == "21610" && form.GetValueOrDefault("To") is { Length: > 0 } to)
        {
            await services.GetRequiredService<SuppressionService>().AddAsync(to, "Twilio reported the recipient unsubscribed.", "provider", ct);
        }
        return Results.NoContent();
    }

    private static async Task<IResult> InboundAsync(HttpRequest request, IServiceProvider services, IOptions<MessagingOptions> messaging, CancellationToken ct)
    {
        var (form, refusal) = await SignedFormAsync(request, services, ct);
        if (form is null)
        {
            return refusal!;
        }
        var emptyTwiml = Results.Content("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>", "text/xml");
        if (form.GetValueOrDefault("MessageSid") is { Length: > 0 } messageSid && !await ClaimAsync(services, messageSid, ct))
        {
            return emptyTwiml;
        }
        var keyword = form.GetValueOrDefault("Body")?.Trim() ?? "";
        var from = form.GetValueOrDefault("From") ?? "";
        if (from.StartsWith("whatsapp:", StringComparison.OrdinalIgnoreCase))
        {
            from = from["whatsapp:".Length..];
        }
        if (PhoneAddress.TryNormalize(from, messaging.Value.Region, out var e164, out _))
        {
            var suppressions = services.GetRequiredService<SuppressionService>();
            if (StopWords.Contains(keyword))
            {
                await suppressions.AddAsync(e164, $"Replied {keyword.ToUpperInvariant()}", "keyword", ct);
            }
            else if (StartWords.Contains(keyword))
            {
                await suppressions.RemoveAsync(e164, ct);
            }
        }
        return emptyTwiml;
    }

    /// <summary>Records the inbound message as processed; false when it already was (a replay or Twilio's retry).</summary>
    private static Task<bool> ClaimAsync(IServiceProvider services, string messageSid, CancellationToken ct) =>
        services.GetRequiredService<IEngineStore>().ClaimInboundAsync(messageSid, services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds(), ct);

    // With a body, so the status-code pages don't re-run the request as a page.
    private static IResult Forbidden() => Results.Text("The X-Twilio-Signature is missing or wrong.", "text/plain", statusCode: StatusCodes.Status403Forbidden);

    private static IResult TooLarge() => Results.Text($"A Twilio callback is at most {MaxFormBytes / 1024} KB.", "text/plain", statusCode: StatusCodes.Status413PayloadTooLarge);

    /// <summary>
    /// The form fields when the signature is good for the public URL of this request; otherwise null and the answer:
    /// 403 for a missing or wrong signature, 413 for a form too large to be Twilio's (refused before it is read).
    /// </summary>
    private static async Task<(Dictionary<string, string>? Form, IResult? Refusal)> SignedFormAsync(HttpRequest request, IServiceProvider services, CancellationToken ct)
    {
        var settings = services.GetRequiredService<IOptions<TwilioOptions>>().Value;
        var token = settings.AuthToken;
        var signature = request.Headers["X-Twilio-Signature"].ToString();
        if (string.IsNullOrEmpty(token) || string.IsNullOrEmpty(signature) || !request.HasFormContentType)
        {
            return (null, Forbidden());
        }
        if (request.ContentLength > MaxFormBytes)
        {
            return (null, TooLarge());
        }
        // A body sent without its length is cut off by the server once it passes the limit.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxFormBytes;
        }
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new FormOptions { BufferBodyLengthLimit = MaxFormBytes, ValueLengthLimit = MaxFormBytes, ValueCountLimit = 256 }, ct);
        }
        catch (Exception ex) when (ex is InvalidDataException || (ex is BadHttpRequestException bad && bad.StatusCode == StatusCodes.Status413PayloadTooLarge))
        {
            return (null, TooLarge());
        }
        var fields = form.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal);
        var publicBase = settings.PublicBaseUrl;
        var url = string.IsNullOrEmpty(publicBase)
            ? $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{request.QueryString}"
            : $"{publicBase.TrimEnd('/')}{request.PathBase}{request.Path}{request.QueryString}";
        return new RequestValidator(token).Validate(url, fields, signature) ? (fields, null) : (null, Forbidden());
    }
}
