using BulkCampaigns.Dispatch;
using System.Globalization;
using System.Text.Json;
using BulkCampaigns.Api;
using BulkCampaigns.Auth;
using BulkCampaigns.Data;
using BulkCampaigns.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Operations;

/// <summary><c>/v1/Messages</c>: send requests, operations and messages (docs/api.md: Messages and operations).</summary>
public sealed record OperationList(IEnumerable<OperationView> Operations, Pagination Pagination);

public sealed record MessageList(IEnumerable<MessageView> Messages, Pagination Pagination);

/// <summary>
/// The body of <c>POST /v1/Messages</c> as the OpenAPI document shows it. The endpoint reads the JSON itself, so it
/// can name every problem by its path (<c>to[17].address</c>) in one answer.
/// </summary>
public sealed record SendMessagesBody(SendFrom From, IReadOnlyList<SendTo> To, BulkCampaigns.Content.MessageContent Content,
    SendSchedule? Schedule = null, IReadOnlyDictionary<string, string>? Tags = null, string? Name = null, SendPace? Pace = null);

/// <summary>ext: the operation's own MPS (1 to the sender's; default the sender's) and optional quiet hours.</summary>
public sealed record SendPace(int? Mps = null, SendQuietHours? QuietHours = null);

/// <summary>ext: no sends between <c>start</c> and <c>end</c> (HH:mm, may wrap midnight) in the recipient's local time:
/// its country's zone when the country has one, else <c>timeZone</c> (IANA).</summary>
public sealed record SendQuietHours(string Start, string End, string TimeZone);

public sealed record SendFrom(string Address, string? Channel = null);

/// <summary>An inline recipient (<c>address</c>, <c>channel</c>, <c>variables</c>), a stored group (<c>groupId</c>) or a saved segment (<c>segmentId</c>).</summary>
/// <remarks>Each item has one of <c>address</c>, <c>groupId</c> or <c>segmentId</c>, so none is required on its own.</remarks>
public sealed record SendTo(string? Address = null, string? Channel = null, IReadOnlyDictionary<string, string>? Variables = null, string? GroupId = null, string? SegmentId = null);

public sealed record SendSchedule(IReadOnlyList<DateTimeOffset> SendAt);

public static class OperationEndpoints
{
    public static RouteGroupBuilder MapOperationsApi(this RouteGroupBuilder v1)
    {
        var messages = v1.MapGroup("/Messages").WithTags("Messages");
        messages.MapPost("/", SendAsync).RequireAuthorization(AuthSetup.ApiWritePolicy)
            .DocumentsBody<SendMessagesBody>("application/json").Produces(202).Produces<ApiError>(413).Produces<ApiError>(415)
            .ResponseHeaders(202, ("operationId", "The id of the operation that was made (comms_operation_…)."), ("Location", "The operation's address: /v1/Messages/Operations/{operationId}."))
            .Describes("SendMessages", "Send a message to inline recipients and groups");
        messages.MapGet("/", ListMessagesAsync).Produces<MessageList>().Describes("ListMessages", "List messages").Paged()
            .QueryParameter("operationId", OpenApiDocument.Text(), "Only the messages of this operation (comms_operation_…).")
            .QueryParameter("status", OpenApiDocument.OneOf("SCHEDULED", "QUEUED", "SENT", "DELIVERED", "READ", "UNDELIVERED", "UNADDRESSABLE", "FAILED", "CANCELED", "SUPPRESSED"), "Only messages in this status.")
            .QueryParameter("address", OpenApiDocument.Text(), "Only messages to this address (any format the default region reads).");
        messages.MapGet("/Operations", ListOperationsAsync).Produces<OperationList>().Describes("ListOperations", "List operations").Paged();
        messages.MapGet("/Operations/{id}", async (string id, IDbContextFactory<AppDbContext> dbFactory, IEngineStore store, CancellationToken ct) =>
            await FindViewAsync(dbFactory, store, id, ct) is { } op ? Results.Ok(op) : ApiError.NotFound($"No operation {id}.")).Produces<OperationView>()
            .Describes("GetOperation", "Get an operation and its figures");
        messages.MapGet("/{id}", async (string id, IDbContextFactory<AppDbContext> dbFactory, CancellationToken ct) =>
        {
            if (!PublicId.TryDecode(PublicId.Message, id, out var key))
            {
                return ApiError.NotFound($"No message {id}.");
            }
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var row = await db.Set<Message>().AsNoTracking()
                .Join(db.Set<Operation>(), m => m.OperationId, o => o.Id, (m, o) => new { m, o })
                .FirstOrDefaultAsync(x => x.m.Id == key, ct);
            return row is null ? ApiError.NotFound($"No message {id}.") : Results.Ok(MessageView.Of(row.m, row.o));
        }).Produces<MessageView>().Describes("GetMessage", "Get a message");
        Control(messages, "Pause", (s, id, ct) => s.PauseAsync(id, null, ct), "Only a scheduled or processing operation can be paused.");
        Control(messages, "Resume", (s, id, ct) => s.ResumeAsync(id, ct), "Only a paused operation can be resumed.");
        Control(messages, "Cancel", (s, id, ct) => s.CancelAsync(id, ct), "A completed or canceled operation can't be canceled.");
        Control(messages, "Retry", (s, id, ct) => s.RetryAsync(id, ct), "Nothing to retry: the operation has no failed messages with a retryable error, or it is canceled or not started.");
        return v1;
    }

    private static void Control(RouteGroupBuilder messages, string action, Func<OperationService, long, CancellationToken, Task<ControlResult>> run, string conflict) =>
        messages.MapPost($"/Operations/{{id}}/{action}", async (string id, OperationService service, IDbContextFactory<AppDbContext> dbFactory, IEngineStore store, CancellationToken ct) =>
        {
            if (!PublicId.TryDecode(PublicId.Operation, id, out var key))
            {
                return ApiError.NotFound($"No operation {id}.");
            }
            return await run(service, key, ct) switch
            {
                ControlResult.NotFound => ApiError.NotFound($"No operation {id}."),
                ControlResult.NotAllowed => ApiError.Conflict(conflict),
                _ => Results.Ok((await FindViewAsync(dbFactory, store, id, ct))!),
            };
        }).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces<OperationView>().Produces<ApiError>(409)
            .Describes($"{action}Operation", $"{action} an operation");

    private static async Task<OperationView?> FindViewAsync(IDbContextFactory<AppDbContext> dbFactory, IEngineStore store, string id, CancellationToken ct)
    {
        if (!PublicId.TryDecode(PublicId.Operation, id, out var key))
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<Operation>().AsNoTracking().FirstOrDefaultAsync(o => o.Id == key, ct) is { } op
            ? await OperationView.ReadAsync(db, store, op, ct)
            : null;
    }

    private static async Task<IResult> ListOperationsAsync(HttpRequest request, IDbContextFactory<AppDbContext> dbFactory, IEngineStore store, CancellationToken ct)
    {
        var validation = new ApiValidation();
        var page = PageRequest.From(request, validation);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Set<Operation>().AsNoTracking().Where(o => o.Id > page.After).OrderBy(o => o.Id).Take(page.PageSize + 1).ToListAsync(ct);
        var (items, pagination) = PageLinks.Page(request, page, rows, o => o.Id);
        var views = new List<OperationView>();
        foreach (var item in items)
        {
            views.Add(await OperationView.ReadAsync(db, store, item, ct));
        }
        return Results.Ok(new OperationList(views, pagination));
    }

    private static async Task<IResult> ListMessagesAsync(HttpRequest request, IDbContextFactory<AppDbContext> dbFactory, IOptions<MessagingOptions> messaging, CancellationToken ct)
    {
        var validation = new ApiValidation();
        var page = PageRequest.From(request, validation);
        long? operationId = null;
        var opText = request.Query["operationId"].ToString();
        if (opText.Length > 0)
        {
            if (PublicId.TryDecode(PublicId.Operation, opText, out var op))
            {
                operationId = op;
            }
            else
            {
                validation.Add("operationId", $"No operation {opText}.");
            }
        }
        MessageStatus? status = null;
        var statusText = request.Query["status"].ToString();
        if (statusText.Length > 0)
        {
            if (Enum.TryParse<MessageStatus>(statusText.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var s) && s is not (MessageStatus.Sending or MessageStatus.Held) &&
                !int.TryParse(statusText, out _))
            {
                status = s;
            }
            else
            {
                validation.Add("status", "status must be one of SCHEDULED, QUEUED, SENT, DELIVERED, READ, UNDELIVERED, UNADDRESSABLE, FAILED, CANCELED, SUPPRESSED.");
            }
        }
        var address = request.Query["address"].ToString();
        if (address.Length > 0 && Recipients.PhoneAddress.TryNormalize(address, messaging.Value.Region, out var e164, out _))
        {
            address = e164;
        }
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Set<Message>().AsNoTracking().Where(m => m.Id > page.After);
        if (operationId is { } opId)
        {
            query = await OperationMessages.WhereInAsync(db, query, opId, byAddress: address.Length > 0, ct);
        }
        if (status is { } st)
        {
            query = st switch
            {
                MessageStatus.Queued => query.Where(m => m.Status == MessageStatus.Queued || m.Status == MessageStatus.Sending),
                MessageStatus.Scheduled => query.Where(m => m.Status == MessageStatus.Scheduled || m.Status == MessageStatus.Held),
                _ => query.Where(m => m.Status == st),
            };
        }
        if (address.Length > 0)
        {
            query = query.Where(m => m.Address == address);
        }
        var rows = await query.OrderBy(m => m.Id)
            .Join(db.Set<Operation>(), m => m.OperationId, o => o.Id, (m, o) => new { m, o })
            .Take(page.PageSize + 1).ToListAsync(ct);
        var (items, pagination) = PageLinks.Page(request, page, rows, r => r.m.Id);
        return Results.Ok(new MessageList(items.Select(r => MessageView.Of(r.m, r.o)), pagination));
    }

    /// <summary>docs/api.md: a body over 10 MB is refused with 413 before it is read whole.</summary>
    public const long MaxSendBodyBytes = 10 * 1024 * 1024;

    private static async Task<IResult> SendAsync(HttpContext http, OperationCreation service, CancellationToken ct)
    {
        if (!http.Request.HasJsonContentType())
        {
            return new ApiError(StatusCodes.Status415UnsupportedMediaType, ApiError.Codes.InvalidParameter, "Send the body as application/json.").ToResult();
        }
        if (http.Request.ContentLength > MaxSendBodyBytes)
        {
            return TooLarge();
        }
        // A body sent without its length (chunked) is cut off by the server once it passes the limit.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxSendBodyBytes;
        }
        // Read whole (at most 10 MB) so its text can be checked before it is parsed; the document keeps this buffer.
        ReadOnlyMemory<byte> body;
        try
        {
            var buffer = new MemoryStream((int)(http.Request.ContentLength ?? 0));
            await http.Request.Body.CopyToAsync(buffer, ct);
            body = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge();
        }
        // The JSON reader does not check the text inside strings; a broken byte there would surface later as a 500.
        if (InvalidUtf8At(body.Span) is { } badByte)
        {
            return ApiError.BadRequest($"The body is not valid UTF-8 text (byte {badByte + 1}). Send JSON encoded as UTF-8.");
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            return ApiError.BadRequest(ApiPlumbing.DescribeJsonError(ex).Message);
        }
        using (doc)
        {
            var validation = new ApiValidation();
            var draft = ReadDraft(doc.RootElement, validation);
            if (draft is null || !validation.IsValid)
            {
                var tooMany = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("to", out var t) &&
                              t.ValueKind == JsonValueKind.Array && t.GetArrayLength() > OperationLimits.MaxInlineRecipients;
                return ApiError.BadRequest("The request has problems; each is listed in errors.", validation.Errors,
                    tooMany ? ApiError.Codes.TooManyRecipients : ApiError.Codes.InvalidParameter);
            }
            var (operationId, problems) = await service.CreateAsync(draft, ct);
            if (operationId is not { } id)
            {
                return problems.ToResult();
            }
            var publicId = PublicId.Encode(PublicId.Operation, id);
            http.Response.Headers["operationId"] = publicId;
            http.Response.Headers.Location = $"/v1/Messages/Operations/{publicId}";
            return Results.StatusCode(StatusCodes.Status202Accepted);
        }
    }

    /// <summary>Reads the request's JSON shape into a draft; the service checks the meaning (senders, addresses, groups, content).</summary>
    private static OperationDraft? ReadDraft(JsonElement root, ApiValidation validation)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            validation.Add("", "The body must be a JSON object.");
            return null;
        }
        string? fromAddress = null, fromChannel = null;
        if (!root.TryGetProperty("from", out var from) || from.ValueKind != JsonValueKind.Object)
        {
            validation.Add("from", "from is required: {\"address\": \"+1…\", \"channel\": \"SMS\"}.");
        }
        else
        {
            fromAddress = Text(from, "address", "from.address", validation);
            fromChannel = Text(from, "channel", "from.channel", validation);
        }

        var to = new List<AudienceItem>();
        if (!root.TryGetProperty("to", out var toElement) || toElement.ValueKind != JsonValueKind.Array)
        {
            validation.Add("to", "to is required: an array of recipients or groups.");
        }
        else if (toElement.GetArrayLength() > OperationLimits.MaxInlineRecipients)
        {
            validation.Add("to", $"to has {toElement.GetArrayLength()} items; at most {OperationLimits.MaxInlineRecipients} are allowed. Store larger audiences as a group.");
        }
        else
        {
            var i = 0;
            foreach (var item in toElement.EnumerateArray())
            {
                var path = $"to[{i++}]";
                if (item.ValueKind != JsonValueKind.Object)
                {
                    validation.Add(path, "each to item is {\"address\", \"channel\", \"variables\"}, {\"groupId\"} or {\"segmentId\"}.");
                    to.Add(new AudienceItem());
                    continue;
                }
                if (item.TryGetProperty("segmentId", out _))
                {
                    to.Add(new AudienceItem(SegmentId: Text(item, "segmentId", $"{path}.segmentId", validation) ?? ""));
                    continue;
                }
                if (item.TryGetProperty("groupId", out _))
                {
                    to.Add(new AudienceItem(GroupId: Text(item, "groupId", $"{path}.groupId", validation) ?? ""));
                    continue;
                }
                var variables = new Dictionary<string, string>();
                if (item.TryGetProperty("variables", out var vars))
                {
                    if (vars.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var v in vars.EnumerateObject())
                        {
                            variables[v.Name] = v.Value.ValueKind switch
                            {
                                JsonValueKind.String => v.Value.GetString()!,
                                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.Value.GetRawText(),
                                JsonValueKind.Null => "",
                                _ => Invalid(validation, $"{path}.variables.{v.Name}"),
                            };
                        }
                    }
                    else if (vars.ValueKind != JsonValueKind.Null)
                    {
                        validation.Add($"{path}.variables", "variables must be an object of text values.");
                    }
                }
                var address = Text(item, "address", $"{path}.address", validation);
                if (address is null)
                {
                    validation.Add($"{path}.address", "address is required.");
                }
                to.Add(new AudienceItem(address, Text(item, "channel", $"{path}.channel", validation), variables));
            }
        }

        string? contentJson = null;
        if (!root.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Object)
        {
            validation.Add("content", "content is required: {\"text\": \"…\"}, {\"modules\": […]} or {\"contentId\": \"cnt_…\"}.");
        }
        else
        {
            contentJson = content.GetRawText();
        }

        DateTimeOffset? sendAt = null;
        if (root.TryGetProperty("schedule", out var schedule) && schedule.ValueKind != JsonValueKind.Null)
        {
            var at = schedule.ValueKind == JsonValueKind.Object && schedule.TryGetProperty("sendAt", out var s) ? s : default;
            if (at.ValueKind == JsonValueKind.Array && at.GetArrayLength() == 1)
            {
                at = at[0];
            }
            if (at.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(at.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                sendAt = parsed.ToUniversalTime();
            }
            else
            {
                validation.Add("schedule.sendAt", "sendAt is one ISO-8601 UTC timestamp, e.g. [\"2026-12-01T09:30:00Z\"].");
            }
        }

        var tags = new Dictionary<string, string>();
        if (root.TryGetProperty("tags", out var tagsElement) && tagsElement.ValueKind != JsonValueKind.Null)
        {
            if (tagsElement.ValueKind != JsonValueKind.Object)
            {
                validation.Add("tags", "tags must be an object of text values.");
            }
            else
            {
                foreach (var tag in tagsElement.EnumerateObject())
                {
                    tags[tag.Name] = tag.Value.ValueKind == JsonValueKind.String ? tag.Value.GetString()! : Invalid(validation, $"tags.{tag.Name}");
                }
            }
        }
        var name = root.TryGetProperty("name", out _) ? Text(root, "name", "name", validation) : null;
        return new OperationDraft(fromAddress, fromChannel, to, contentJson, sendAt, tags, name, ReadPace(root, validation));
    }

    /// <summary>Reads <c>pace</c>'s shape; the service checks its values against the sender.</summary>
    private static PaceDraft? ReadPace(JsonElement root, ApiValidation validation)
    {
        if (!root.TryGetProperty("pace", out var pace) || pace.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (pace.ValueKind != JsonValueKind.Object)
        {
            validation.Add("pace", "pace is an object: {\"mps\": 50, \"quietHours\": {\"start\": \"21:00\", \"end\": \"08:00\", \"timeZone\": \"Europe/London\"}}.");
            return null;
        }
        int? mps = null;
        if (pace.TryGetProperty("mps", out var m) && m.ValueKind != JsonValueKind.Null)
        {
            if (m.ValueKind == JsonValueKind.Number && m.TryGetInt32(out var value))
            {
                mps = value;
            }
            else
            {
                validation.Add("pace.mps", "pace.mps is a whole number of messages per second.");
            }
        }
        QuietHoursDraft? quiet = null;
        if (pace.TryGetProperty("quietHours", out var q) && q.ValueKind != JsonValueKind.Null)
        {
            if (q.ValueKind != JsonValueKind.Object)
            {
                validation.Add("pace.quietHours", "quietHours is {\"start\": \"21:00\", \"end\": \"08:00\", \"timeZone\": \"Europe/London\"}.");
            }
            else
            {
                quiet = new QuietHoursDraft(Text(q, "start", "pace.quietHours.start", validation), Text(q, "end", "pace.quietHours.end", validation),
                    Text(q, "timeZone", "pace.quietHours.timeZone", validation));
            }
        }
        return new PaceDraft(mps, quiet);
    }

    private static string Invalid(ApiValidation validation, string field)
    {
        validation.Add(field, "must be text.");
        return "";
    }

    private static string? Text(JsonElement obj, string property, string field, ApiValidation validation)
    {
        if (!obj.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            validation.Add(field, $"{property} must be text.");
            return null;
        }
        return value.GetString();
    }

    /// <summary>The offset of the first byte that is not part of valid UTF-8, or null when all of it is.</summary>
    private static int? InvalidUtf8At(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return null;
        }
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return offset;
            }
            offset += consumed;
        }
        return offset;
    }

    private static IResult TooLarge() =>
        new ApiError(StatusCodes.Status413PayloadTooLarge, ApiError.Codes.PayloadTooLarge,
            $"The request body is over {MaxSendBodyBytes / (1024 * 1024)} MB. Send at most 10,000 recipients inline, or store them as a group and send to its groupId.").ToResult();
}
