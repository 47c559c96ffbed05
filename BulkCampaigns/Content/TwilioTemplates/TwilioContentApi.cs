using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Hosting;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Content.TwilioTemplates;

/// <summary>
/// The templates of the Twilio account, read from Twilio's Content API (<c>Messaging:Twilio:ContentBaseUrl</c>):
/// <c>GET /v1/Content</c> page by page, then each template's <c>ApprovalRequests</c> for its WhatsApp status. Kept for
/// <see cref="CacheFor"/>, since a catalogue of a few hundred templates takes as many requests; a refresh reads it again.
/// </summary>
public sealed class TwilioContentApi(IOptions<TwilioOptions> options, IHttpClientFactory factory, TimeProvider clock) : ITwilioTemplateSource
{
    public const string HttpClientName = "twilio-content";
    public static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(5);
    private const int PageSize = 50;
    private const int MaxPages = 200;
    private const int ApprovalConcurrency = 4;

    private readonly SemaphoreSlim _reading = new(1, 1);
    private TwilioTemplateCatalogue? _cached;

    public async Task<TwilioTemplateCatalogue> ListAsync(bool refresh, CancellationToken ct)
    {
        if (!refresh && Fresh(_cached) is { } fresh)
        {
            return fresh;
        }
        await _reading.WaitAsync(ct);
        try
        {
            // Another caller may have read it while this one waited.
            if (!refresh && Fresh(_cached) is { } justRead)
            {
                return justRead;
            }
            _cached = await ReadAsync(ct);
            return _cached;
        }
        finally
        {
            _reading.Release();
        }
    }

    private TwilioTemplateCatalogue? Fresh(TwilioTemplateCatalogue? catalogue) =>
        catalogue is not null && clock.GetUtcNow() - catalogue.ReadAt < CacheFor ? catalogue : null;

    private async Task<TwilioTemplateCatalogue> ReadAsync(CancellationToken ct)
    {
        var settings = options.Value;
        if (string.IsNullOrEmpty(settings.AccountSid) || string.IsNullOrEmpty(settings.AuthToken))
        {
            throw new TwilioTemplateCatalogueException("Twilio templates can't be read: Messaging:Twilio:AccountSid and AuthToken are not set.");
        }
        var client = factory.CreateClient(HttpClientName);
        var found = new List<(JsonElement Content, string Sid)>();
        var next = $"v1/Content?PageSize={PageSize}";
        for (var page = 0; next is not null && page < MaxPages; page++)
        {
            using var doc = await GetAsync(client, next, ct);
            if (doc.RootElement.TryGetProperty("contents", out var contents) && contents.ValueKind == JsonValueKind.Array)
            {
                foreach (var content in contents.EnumerateArray())
                {
                    if (Str(content, "sid") is { } sid)
                    {
                        found.Add((content.Clone(), sid));
                    }
                }
            }
            next = doc.RootElement.TryGetProperty("meta", out var meta) ? Str(meta, "next_page_url") : null;
        }

        var approvals = new string[found.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, found.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ApprovalConcurrency, CancellationToken = ct },
            async (i, token) => approvals[i] = await WhatsappStatusAsync(client, found[i].Sid, token));

        var templates = found.Select((f, i) => ToTemplate(f.Content, f.Sid, approvals[i])).OrderBy(t => t.FriendlyName, StringComparer.OrdinalIgnoreCase).ToList();
        return new TwilioTemplateCatalogue(templates, clock.GetUtcNow());
    }

    private static async Task<string> WhatsappStatusAsync(HttpClient client, string sid, CancellationToken ct)
    {
        using var doc = await GetAsync(client, $"v1/Content/{Uri.EscapeDataString(sid)}/ApprovalRequests", ct, notFoundIsEmpty: true);
        if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("whatsapp", out var whatsapp) && whatsapp.ValueKind == JsonValueKind.Object
            && Str(whatsapp, "status") is { Length: > 0 } status)
        {
            return status.ToLowerInvariant();
        }
        return "unsubmitted";
    }

    private static TwilioTemplate ToTemplate(JsonElement content, string sid, string whatsapp)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        if (content.TryGetProperty("variables", out var vars) && vars.ValueKind == JsonValueKind.Object)
        {
            foreach (var v in vars.EnumerateObject())
            {
                variables[v.Name] = v.Value.ValueKind == JsonValueKind.String ? v.Value.GetString()! : v.Value.GetRawText();
            }
        }
        var types = new List<string>();
        string? text = null;
        if (content.TryGetProperty("types", out var typeMap) && typeMap.ValueKind == JsonValueKind.Object)
        {
            foreach (var type in typeMap.EnumerateObject())
            {
                types.Add(type.Name);
                var shown = ShownText(type.Value);
                // Plain text is what most phones show; otherwise the first type that has words.
                if (shown is not null && (text is null || type.Name == "twilio/text"))
                {
                    text = shown;
                }
            }
        }
        // A template may name a variable only in its text.
        foreach (var name in TwilioTemplateText.Placeholders(text ?? ""))
        {
            variables.TryAdd(name, "");
        }
        return new TwilioTemplate(sid, Str(content, "friendly_name") ?? sid, Str(content, "language") ?? "", variables, types, text ?? "", new TwilioTemplateApproval(whatsapp));
    }

    private static string? ShownText(JsonElement type)
    {
        if (type.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var parts = new[] { "title", "subtitle", "body", "footer" }.Select(p => Str(type, p)).Where(p => !string.IsNullOrEmpty(p)).ToList();
        return parts.Count == 0 ? null : string.Join('\n', parts);
    }

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>
    /// One request to the Content API. <paramref name="pathOrUrl"/> may be Twilio's own absolute next-page URL: only its path and
    /// query are kept, so paging stays on the configured host (a local fake in tests).
    /// </summary>
    private static async Task<JsonDocument> GetAsync(HttpClient client, string pathOrUrl, CancellationToken ct, bool notFoundIsEmpty = false)
    {
        var relative = Uri.TryCreate(pathOrUrl, UriKind.Absolute, out var absolute) ? absolute.PathAndQuery.TrimStart('/') : pathOrUrl;
        HttpResponseMessage response;
        try
        {
            response = await client.GetAsync(relative, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new TwilioTemplateCatalogueException($"Twilio's Content API did not answer ({ex.Message}); try again in a moment.", ex);
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            if (notFoundIsEmpty && response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return JsonDocument.Parse("{}");
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new TwilioTemplateCatalogueException(DescribeError((int)response.StatusCode, body));
            }
            try
            {
                return JsonDocument.Parse(body);
            }
            catch (JsonException ex)
            {
                throw new TwilioTemplateCatalogueException("Twilio's Content API answered something that is not JSON; try again in a moment.", ex);
            }
        }
    }

    private static string DescribeError(int status, string body)
    {
        string? message = null;
        string? code = null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            message = Str(doc.RootElement, "message");
            code = doc.RootElement.TryGetProperty("code", out var c) ? c.ToString() : null;
        }
        catch (JsonException)
        {
        }
        var why = status switch
        {
            401 or 403 => "check Messaging:Twilio:AccountSid and AuthToken",
            429 => "too many requests; try again in a minute",
            >= 500 => "Twilio has a problem; try again in a moment",
            _ => "see Twilio's message",
        };
        return $"Twilio's Content API refused to list the templates ({status}{(code is null ? "" : $", code {code}")}: {message ?? "no message"}); {why}.";
    }

    public static void Configure(IServiceProvider services, HttpClient client)
    {
        var settings = services.GetRequiredService<IOptions<TwilioOptions>>().Value;
        client.BaseAddress = new Uri(settings.ContentBaseUrl.TrimEnd('/') + "/");
        client.Timeout = TimeSpan.FromSeconds(30);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.AccountSid}:{settings.AuthToken}")));
        client.DefaultRequestHeaders.Accept.ParseAdd("application/json");
    }
}
