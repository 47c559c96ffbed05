using BulkCampaigns.Operations;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using BulkCampaigns.Content;
using BulkCampaigns.Content.TwilioTemplates;
using BulkCampaigns.Data;
using BulkCampaigns.Hosting;
using Microsoft.Extensions.Options;
using Twilio.Clients;
using Twilio.Exceptions;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;

namespace BulkCampaigns.Dispatch.Providers;

/// <summary>Sends through Twilio's Messages API with the official package, one request per message, a bounded number at a time.</summary>
public sealed class TwilioProvider(IOptions<TwilioOptions> options, IOptions<DispatchOptions> dispatch, TwilioHttp http) : IMessageProvider
{
    private readonly TwilioRestClient _client = new(options.Value.AccountSid, options.Value.AuthToken, options.Value.AccountSid, httpClient: http);

    public string Name => "Twilio";

    public async Task<IReadOnlyList<SendResult>> SendAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken ct)
    {
        var results = new SendResult[messages.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, messages.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, dispatch.Value.ProviderConcurrency), CancellationToken = ct },
            async (i, _) => results[i] = await SendOneAsync(messages[i]));
        return results;
    }

    private async Task<SendResult> SendOneAsync(OutgoingMessage message)
    {
        var settings = options.Value;
        var create = new CreateMessageOptions(new PhoneNumber(Address(message.To, message.Channel)));
        if (message.ContentSid is not null)
        {
            // Twilio renders the template for the channel; the body would be refused beside it.
            create.ContentSid = message.ContentSid;
            create.ContentVariables = message.ContentVariables;
        }
        else
        {
            create.Body = message.Body;
        }
        if (IsMessagingService(message.From))
        {
            create.MessagingServiceSid = message.From;
        }
        else if (!string.IsNullOrEmpty(settings.MessagingServiceSid))
        {
            create.MessagingServiceSid = settings.MessagingServiceSid;
        }
        else
        {
            create.From = new PhoneNumber(Address(message.From, message.Channel));
        }
        if (message.Media.Count > 0)
        {
            create.MediaUrl = message.Media.Select(m => new Uri(m)).ToList();
        }
        if (!string.IsNullOrEmpty(settings.PublicBaseUrl))
        {
            create.StatusCallback = new Uri($"{settings.PublicBaseUrl.TrimEnd('/')}/webhooks/twilio/status?messageId={PublicId.Encode(PublicId.Message, message.MessageId)}");
        }
        try
        {
            var sent = await MessageResource.CreateAsync(create, _client);
            return SendResult.Accepted(sent.Sid);
        }
        catch (ApiConnectionException ex) when (ex.InnerException is TwilioTransientException transient)
        {
            return new SendResult(SendOutcome.Transient, ErrorCode: transient.Status.ToString(CultureInfo.InvariantCulture), ErrorMessage: transient.Message, RetryAfter: transient.RetryAfter);
        }
        catch (ApiConnectionException ex)
        {
            // No answer (timeout, connection reset): Twilio may have taken it.
            return new SendResult(SendOutcome.Transient, ErrorCode: "connection", ErrorMessage: ex.Message, Ambiguous: true);
        }
        catch (ApiException ex)
        {
            var code = ex.Code.ToString(CultureInfo.InvariantCulture);
            return ex.Code switch
            {
                21610 => new SendResult(SendOutcome.Unsubscribed, ErrorCode: code, ErrorMessage: ex.Message),
                21211 or 21614 or 21612 or 21408 => new SendResult(SendOutcome.Unaddressable, ErrorCode: code, ErrorMessage: ex.Message),
                20429 => new SendResult(SendOutcome.Transient, ErrorCode: code, ErrorMessage: ex.Message),
                _ when ex.Status is 429 or >= 500 => new SendResult(SendOutcome.Transient, ErrorCode: code, ErrorMessage: ex.Message),
                _ => new SendResult(SendOutcome.Failed, ErrorCode: code, ErrorMessage: ex.Message),
            };
        }
    }

    /// <remarks>
    /// A Messaging Service sender has no one <c>From</c> (Twilio picks a number of its pool), so the list is read by recipient and
    /// time and kept to the messages of that service. A template's message lists the text Twilio rendered, which is the body.
    /// </remarks>
    public async Task<ProviderRecord?> FindAsync(string from, string to, string channel, DateTimeOffset after, string body, CancellationToken ct)
    {
        var service = IsMessagingService(from);
        // A WhatsApp message is listed under whatsapp:+1…, as it was sent.
        var read = new ReadMessageOptions { To = new PhoneNumber(Address(to, channel)), DateSentAfter = after.UtcDateTime.AddMinutes(-1), PageSize = 50 };
        if (!service)
        {
            read.From = new PhoneNumber(Address(from, channel));
        }
        var page = await MessageResource.ReadAsync(read, _client);
        foreach (var m in page)
        {
            if (service && m.MessagingServiceSid != from)
            {
                continue;
            }
            if (m.Body == body && m.Status != MessageResource.StatusEnum.Failed)
            {
                return new ProviderRecord(m.Sid, m.DateCreated is { } d ? new DateTimeOffset(d, TimeSpan.Zero) : after);
            }
        }
        return null;
    }

    /// <summary>A Messaging Service SID (<c>MG</c> + 32 hex), which a sender may be.</summary>
    public static bool IsMessagingService(string from) => Senders.SenderService.IsMessagingServiceSid(from);

    private static string Address(string address, string channel) =>
        channel.Equals(ChannelNames.WhatsApp, StringComparison.OrdinalIgnoreCase) && !address.StartsWith("whatsapp:", StringComparison.Ordinal) ? "whatsapp:" + address : address;

    /// <summary>Maps a Twilio message status (from a callback or a fetch) to ours; null for steps before SENT.</summary>
    public static MessageStatus? MapStatus(string? status) => status?.ToLowerInvariant() switch
    {
        "sent" => MessageStatus.Sent,
        "delivered" => MessageStatus.Delivered,
        "read" => MessageStatus.Read,
        "undelivered" => MessageStatus.Undelivered,
        "failed" => MessageStatus.Failed,
        _ => null,
    };
}

/// <summary>A 429 or 5xx answer, with the Retry-After Twilio gave.</summary>
public sealed class TwilioTransientException(int status, TimeSpan? retryAfter, string message) : Exception(message)
{
    public int Status { get; } = status;
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>
/// The package's HTTP seam: sends to <c>Messaging:Twilio:BaseUrl</c> (a local fake in tests) instead of
/// Twilio's host, and turns 429/5xx into <see cref="TwilioTransientException"/> so Retry-After is kept.
/// </summary>
public sealed class TwilioHttp(IOptions<TwilioOptions> options, IHttpClientFactory factory) : Twilio.Http.HttpClient
{
    public const string HttpClientName = "twilio";

    public override Twilio.Http.Response MakeRequest(Twilio.Http.Request request) =>
        MakeRequestAsync(request).GetAwaiter().GetResult();

    public override async Task<Twilio.Http.Response> MakeRequestAsync(Twilio.Http.Request request)
    {
        var url = request.ConstructUrl();
        var baseUri = new Uri(options.Value.BaseUrl.TrimEnd('/') + "/");
        var target = new Uri(baseUri, url.PathAndQuery.TrimStart('/'));
        using var message = new HttpRequestMessage(new HttpMethod(request.Method.ToString()), target);
        message.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{request.Username}:{request.Password}")));
        message.Headers.Accept.ParseAdd("application/json");
        foreach (var header in request.HeaderParams)
        {
            message.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
        if (request.Method != Twilio.Http.HttpMethod.Get && request.Method != Twilio.Http.HttpMethod.Delete)
        {
            message.Content = new FormUrlEncodedContent(request.PostParams);
        }
        var client = factory.CreateClient(HttpClientName);
        using var response = await client.SendAsync(message);
        var content = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        if (status == 429 || status >= 500)
        {
            var retryAfter = response.Headers.RetryAfter is { } ra
                ? ra.Delta ?? (ra.Date is { } date ? date - DateTimeOffset.UtcNow : null)
                : null;
            throw new TwilioTransientException(status, retryAfter, $"Twilio answered {status}: {Truncate(content)}");
        }
        return new Twilio.Http.Response((HttpStatusCode)status, content, response.Headers);
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300];
}

public static class TwilioSetup
{
    public static IServiceCollection AddTwilioProvider(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<TwilioOptions>(configuration.GetSection("Messaging:Twilio"));
        services.AddHttpClient(TwilioHttp.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(30));
        services.AddSingleton<TwilioHttp>();
        services.AddSingleton<IMessageProvider, TwilioProvider>();
        services.AddHttpClient(TwilioContentApi.HttpClientName, TwilioContentApi.Configure);
        services.AddSingleton<ITwilioTemplateSource, TwilioContentApi>();
        return services;
    }
}
