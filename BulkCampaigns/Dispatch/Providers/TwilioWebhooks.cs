using BulkCampaigns.Data;
using BulkCampaigns.Recipients;
using BulkCampaigns.Suppressions;
using Microsoft.Extensions.Options;
using Twilio.Security;

namespace BulkCampaigns.Dispatch.Providers;

/// <summary>
/// Twilio's callbacks, outside <c>/v1</c> and anonymous: the <c>X-Twilio-Signature</c> is the
/// authentication. A bad or missing signature gets 403 and changes nothing.
/// </summary>
public static class TwilioWebhooks
{
    private static readonly HashSet<string> StopWords = new(StringComparer.OrdinalIgnoreCase) { "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT" };
    private static readonly HashSet<string> StartWords = new(StringComparer.OrdinalIgnoreCase) { "START", "UNSTOP", "YES" };

    public static IEndpointRouteBuilder MapTwilioWebhooks(this IEndpointRouteBuilder app)
    {
        var hooks = app.MapGroup("/webhooks/twilio").AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        hooks.MapPost("/status", StatusAsync);
        hooks.MapPost("/inbound", InboundAsync);
        return app;
    }

    private static async Task<IResult> StatusAsync(HttpRequest request, IServiceProvider services, CancellationToken ct)
    {
        var form = await SignedFormAsync(request, services, ct);
        if (form is null)
        {
            return Forbidden();
        }
        var status = TwilioProvider.MapStatus(form.GetValueOrDefault("MessageStatus"));
        if (status is null or MessageStatus.Sent)
        {
            return Results.NoContent();
        }
        var database = services.GetRequiredService<DatabaseConnection>();
        await using var connection = await database.OpenAsync(ct);
        long? messageId = null;
        if (PublicId.TryDecode(PublicId.Message, request.Query["messageId"].ToString(), out var fromQuery))
        {
            messageId = fromQuery;
        }
        else if (form.GetValueOrDefault("MessageSid") is { Length: > 0 } sid)
        {
            await using var find = connection.CreateCommand();
            find.CommandText = "SELECT Id FROM Messages WHERE ProviderMessageId = $sid LIMIT 1";
            find.Parameters.AddWithValue("$sid", sid);
            messageId = await find.ExecuteScalarAsync(ct) as long?;
        }
        if (messageId is not { } id)
        {
            return Results.NoContent();
        }
        var errorCode = form.GetValueOrDefault("ErrorCode");
        var reports = services.GetRequiredService<DeliveryReports>();
        var gate = services.GetRequiredService<WriteGate>();
        ReportResult result;
        IReadOnlyCollection<long> operations;
        using (var writer = await gate.EnterAsync(ct))
        {
            await using var tx = writer.Connection.BeginTransaction();
            var message = string.IsNullOrEmpty(errorCode) ? null : $"Twilio error {errorCode}";
            var report = new DeliveryReport(id, status.Value, string.IsNullOrEmpty(errorCode) ? null : errorCode, message);
            (var results, operations) = await reports.ApplyAsync(writer.Connection, tx, [report], ct);
            result = results[0];
            if (result == ReportResult.NotYet)
            {
                await reports.KeepEarlyAsync(writer.Connection, tx, report, ct);
            }
            await tx.CommitAsync(ct);
        }
        reports.Publish(operations);
        if (errorCode == "21610" && form.GetValueOrDefault("To") is { Length: > 0 } to)
        {
            await services.GetRequiredService<SuppressionService>().AddAsync(to, "Twilio reported the recipient unsubscribed.", "provider", ct);
        }
        // A report for a message still being written as SENT was kept and is applied when it is written.
        return Results.NoContent();
    }

    private static async Task<IResult> InboundAsync(HttpRequest request, IServiceProvider services, IConfiguration configuration, CancellationToken ct)
    {
        var form = await SignedFormAsync(request, services, ct);
        if (form is null)
        {
            return Forbidden();
        }
        var keyword = form.GetValueOrDefault("Body")?.Trim() ?? "";
        var from = form.GetValueOrDefault("From") ?? "";
        if (from.StartsWith("whatsapp:", StringComparison.OrdinalIgnoreCase))
        {
            from = from["whatsapp:".Length..];
        }
        if (PhoneAddress.TryNormalize(from, configuration["Messaging:DefaultRegion"] ?? "US", out var e164, out _))
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
        return Results.Content("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>", "text/xml");
    }

    // With a body, so the status-code pages don't re-run the request as a page.
    private static IResult Forbidden() => Results.Text("The X-Twilio-Signature is missing or wrong.", "text/plain", statusCode: StatusCodes.Status403Forbidden);

    /// <summary>The form fields when the signature is good for the public URL of this request, else null.</summary>
    private static async Task<Dictionary<string, string>?> SignedFormAsync(HttpRequest request, IServiceProvider services, CancellationToken ct)
    {
        var settings = services.GetService<IOptions<TwilioOptions>>()?.Value;
        var token = settings?.AuthToken ?? services.GetRequiredService<IConfiguration>()["Messaging:Twilio:AuthToken"];
        var signature = request.Headers["X-Twilio-Signature"].ToString();
        if (string.IsNullOrEmpty(token) || string.IsNullOrEmpty(signature) || !request.HasFormContentType)
        {
            return null;
        }
        var form = await request.ReadFormAsync(ct);
        var fields = form.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal);
        var publicBase = settings?.PublicBaseUrl ?? services.GetRequiredService<IConfiguration>()["Messaging:Twilio:PublicBaseUrl"];
        var url = string.IsNullOrEmpty(publicBase)
            ? $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{request.QueryString}"
            : $"{publicBase.TrimEnd('/')}{request.PathBase}{request.Path}{request.QueryString}";
        return new RequestValidator(token).Validate(url, fields, signature) ? fields : null;
    }
}
