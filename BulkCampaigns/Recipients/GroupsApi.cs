using BulkCampaigns.Api;
using BulkCampaigns.Auth;
using BulkCampaigns.Data;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace BulkCampaigns.Recipients;

/// <summary><c>/v1/Groups</c>: groups, their imports, recipients and export (docs/api.md: Recipient groups).</summary>
internal static class GroupsApi
{
    public sealed record GroupBody(string? Name);

    public sealed record GroupDto(string Id, string Name, long RecipientCount, IReadOnlyList<string> AttributeKeys, DateTime CreatedAt, DateTime UpdatedAt, DateTime? LastImportAt);

    public sealed record GroupList(IEnumerable<GroupDto> Groups, Pagination Pagination);

    public sealed record RecipientList(IEnumerable<RecipientDto> Recipients, Pagination Pagination);

    public sealed record RecipientDto(string Id, string Address, string Channel, IReadOnlyDictionary<string, string> Variables, DateTime CreatedAt);

    /// <summary>The answer to starting an import; follow its Location header (or GET the import) for its progress.</summary>
    public sealed record ImportStarted(string Id, string Status);

    public sealed record ImportErrorDto(long Row, long Line, string? Column, string? Value, string Reason);

    public sealed record ImportDto(string Id, string GroupId, string Status, string Mode, string DefaultRegion, string? AddressColumn, string? ChannelColumn,
        string FileName, long Bytes, long RowsRead, long Imported, long Updated, long Duplicates, long Rejected, IReadOnlyList<ImportErrorDto> Errors,
        string ErrorReportUrl, string DuplicatesReportUrl, DateTime CreatedAt, DateTime? StartedAt, DateTime? CompletedAt, string? Message);

    public static void Map(RouteGroupBuilder v1)
    {
        var groups = v1.MapGroup("/Groups").WithTags("Groups");
        groups.MapPost("/", CreateAsync).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces<GroupDto>(201).Describes("CreateGroup", "Create a group");
        groups.MapGet("/", ListAsync).Produces<GroupList>().Describes("ListGroups", "List groups").Paged();
        groups.MapGet("/{id}", GetAsync).Produces<GroupDto>().Describes("GetGroup", "Get a group");
        groups.MapPatch("/{id}", RenameAsync).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces<GroupDto>().Describes("RenameGroup", "Rename a group");
        groups.MapDelete("/{id}", DeleteAsync).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces(204).Produces<ApiError>(409).Describes("DeleteGroup", "Delete a group and its recipients");
        groups.MapPost("/{id}/Imports", StartImportAsync).RequireAuthorization(AuthSetup.ApiWritePolicy).DisableAntiforgery()
            .DocumentsCsvUpload().Produces<ImportStarted>(202).Produces<ApiError>(413).Produces<ApiError>(415)
            .ResponseHeaders(202, ("Location", "The import's address: /v1/Groups/{id}/Imports/{importId}."))
            .Describes("StartImport", "Import a CSV file into a group")
            .QueryParameter("mode", OpenApiDocument.OneOf(ImportMode.All), "upsert (default) adds new recipients and updates known ones; append only adds; replace makes the group exactly the file.")
            .QueryParameter("defaultRegion", OpenApiDocument.Text(), "Two-letter country code for numbers written without a country code (default: the app's).")
            .QueryParameter("addressColumn", OpenApiDocument.Text(), "The header of the column holding the numbers (default: the first header named like phone, mobile, msisdn, number, to or address).")
            .QueryParameter("channelColumn", OpenApiDocument.Text(), "The header of the column holding each row's channel (default: PHONE for every row).")
            .QueryParameter("fileName", OpenApiDocument.Text(), "The file's name, as the import shows it.");
        groups.MapGet("/{id}/Imports/{importId}", GetImportAsync).Produces<ImportDto>().Describes("GetImport", "Get an import and its progress");
        groups.MapGet("/{id}/Imports/{importId}/Errors", ErrorsCsvAsync).Produces<string>(200, "text/csv").Describes("GetImportErrors", "Download an import's rejected rows as CSV");
        groups.MapGet("/{id}/Imports/{importId}/Duplicates", DuplicatesCsvAsync).Produces<string>(200, "text/csv").Describes("GetImportDuplicates", "Download an import's merged duplicate rows as CSV");
        groups.MapGet("/{id}/Recipients", RecipientsAsync).Produces<RecipientList>().Describes("ListRecipients", "List a group's recipients").Paged()
            .QueryParameter("search", OpenApiDocument.Text(), "The start of a number; with variable, text the variable's value contains.")
            .QueryParameter("variable", OpenApiDocument.Text(), "The variable search looks in.")
            .QueryParameter("full", new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.Boolean }, "true: whole variable values; else long ones are cut, ending with \"…\".");
        groups.MapGet("/{id}/Export", ExportAsync).Produces<string>(200, "text/csv").Describes("ExportGroup", "Download a group's recipients as CSV");
    }

    internal static GroupDto ToDto(GroupView g) =>
        new(g.Id, g.Name, g.RecipientCount, g.AttributeKeys, g.CreatedAt.UtcDateTime, g.UpdatedAt.UtcDateTime, g.LastImportAt?.UtcDateTime);

    internal static ImportDto ToDto(ImportView i) =>
        new(i.Id, i.GroupId, i.Status, i.Mode, i.DefaultRegion, i.AddressColumn, i.ChannelColumn, i.FileName, i.Bytes, i.RowsRead, i.Imported, i.Updated,
            i.Duplicates, i.Rejected, i.Errors.Select(e => new ImportErrorDto(e.Row, e.Line, e.Column, e.Value, e.Reason)).ToList(), i.ErrorReportUrl, i.DuplicatesReportUrl,
            i.CreatedAt.UtcDateTime, i.StartedAt?.UtcDateTime, i.CompletedAt?.UtcDateTime, i.Message);

    private static IResult GroupNotFound() => ApiError.NotFound("No group with that id.");

    private static async Task<IResult> CreateAsync(GroupBody? body, GroupService groups, CancellationToken ct)
    {
        if (GroupService.CheckName(body?.Name) is { } problem)
        {
            var validation = new ApiValidation();
            validation.Add("name", problem);
            return validation.ToResult();
        }
        var group = await groups.CreateAsync(body!.Name!, ct);
        return Results.Created($"/v1/Groups/{group.Id}", ToDto(group));
    }

    private static async Task<IResult> ListAsync(HttpRequest request, GroupService groups, CancellationToken ct)
    {
        var validation = new ApiValidation();
        var page = PageRequest.From(request, validation);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        var rows = await groups.ListAsync(page.After, page.PageSize + 1, ct);
        var (items, pagination) = PageLinks.Page(request, page, rows, g => g.Key);
        return Results.Ok(new GroupList(items.Select(ToDto), pagination));
    }

    private static async Task<IResult> GetAsync(string id, GroupService groups, CancellationToken ct) =>
        PublicId.TryDecode(PublicId.Group, id, out var key) && await groups.GetAsync(key, ct) is { } group
            ? Results.Ok(ToDto(group))
            : GroupNotFound();

    private static async Task<IResult> RenameAsync(string id, GroupBody? body, GroupService groups, CancellationToken ct)
    {
        if (!PublicId.TryDecode(PublicId.Group, id, out var key))
        {
            return GroupNotFound();
        }
        if (GroupService.CheckName(body?.Name) is { } problem)
        {
            var validation = new ApiValidation();
            validation.Add("name", problem);
            return validation.ToResult();
        }
        return await groups.RenameAsync(key, body!.Name!, ct) is { } group ? Results.Ok(ToDto(group)) : GroupNotFound();
    }

    private static async Task<IResult> DeleteAsync(string id, GroupService groups, CancellationToken ct)
    {
        if (!PublicId.TryDecode(PublicId.Group, id, out var key))
        {
            return GroupNotFound();
        }
        return await groups.DeleteAsync(key, ct) switch
        {
            DeleteGroupResult.Deleted => Results.NoContent(),
            DeleteGroupResult.InUse => ApiError.Conflict("An unfinished operation uses this group; cancel it or wait until it ends."),
            DeleteGroupResult.Importing => ApiError.Conflict("An import into this group is still running; wait until it ends."),
            _ => GroupNotFound(),
        };
    }

    private static readonly string[] CsvTypes = ["text/csv", "text/plain", "application/csv", "text/x-csv", "application/vnd.ms-excel", "application/octet-stream", "text/tab-separated-values"];

    private static async Task<IResult> StartImportAsync(string id, HttpContext http, ImportService imports, CancellationToken ct)
    {
        var request = http.Request;
        var options = imports.Options;
        // Kestrel stops bodies at 30 MB by default; this endpoint takes files up to Limits:MaxUploadBytes.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = options.MaxUploadBytes + (64 * 1024); // room for multipart framing
        }
        if (!PublicId.TryDecode(PublicId.Group, id, out var groupId))
        {
            return GroupNotFound();
        }
        if (request.ContentLength > options.MaxUploadBytes + (64 * 1024))
        {
            return TooLarge(options.MaxUploadBytes);
        }
        var validation = new ApiValidation();
        var query = request.Query;
        var importRequest = new ImportRequest(query["mode"], query["defaultRegion"], query["addressColumn"], query["channelColumn"], query["fileName"])
            .Normalize(options, validation);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        var contentType = request.ContentType ?? "";
        try
        {
            StartImportResult result;
            if (contentType.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            {
                var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(contentType).Boundary).Value;
                if (string.IsNullOrEmpty(boundary))
                {
                    return ApiError.BadRequest("The multipart body has no boundary.");
                }
                var reader = new MultipartReader(boundary, request.Body);
                MultipartSection? section;
                result = StartImportResult.Fail(400, "The multipart body has no part named 'file'. Send the CSV in a part named file.");
                while ((section = await reader.ReadNextSectionAsync(ct)) is not null)
                {
                    if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) &&
                        disposition.Name.Value?.Trim('"') == "file")
                    {
                        var fileName = HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                        var withName = importRequest with { FileName = string.IsNullOrEmpty(query["fileName"]) && !string.IsNullOrEmpty(fileName) ? Path.GetFileName(fileName) : importRequest.FileName };
                        result = await imports.StartAsync(groupId, section.Body, withName, ct);
                        break;
                    }
                }
            }
            else if (contentType.Length == 0 || CsvTypes.Any(t => contentType.StartsWith(t, StringComparison.OrdinalIgnoreCase)))
            {
                result = await imports.StartAsync(groupId, request.Body, importRequest, ct);
            }
            else
            {
                return new ApiError(415, ApiError.Codes.InvalidParameter,
                    $"A {contentType.Split(';')[0]} body is not a CSV file. Send the CSV as the body with Content-Type: text/csv, or as multipart/form-data with a part named file.").ToResult();
            }
            if (result.Import is not { } import)
            {
                return result.Status == 404 ? GroupNotFound() : ApiError.BadRequest(result.Message ?? "The file can't be imported.");
            }
            var location = $"/v1/Groups/{import.GroupId}/Imports/{import.Id}";
            http.Response.Headers.Location = location;
            return Results.Json(new ImportStarted(import.Id, import.Status), statusCode: StatusCodes.Status202Accepted);
        }
        catch (UploadTooLargeException ex)
        {
            return TooLarge(ex.Limit);
        }
    }

    private static IResult TooLarge(long limit) =>
        new ApiError(StatusCodes.Status413PayloadTooLarge, ApiError.Codes.PayloadTooLarge,
            $"The file is larger than the limit of {limit / (1024.0 * 1024.0):0.#} MB ({limit:N0} bytes); split it into smaller files.").ToResult();

    private static async Task<IResult> GetImportAsync(string id, string importId, ImportService imports, CancellationToken ct) =>
        PublicId.TryDecode(PublicId.Group, id, out var groupKey) && PublicId.TryDecode(PublicId.Import, importId, out var importKey) &&
        await imports.GetAsync(groupKey, importKey, ct) is { } import
            ? Results.Ok(ToDto(import))
            : ApiError.NotFound("No import with that id in this group.");

    private static Task<IResult> ErrorsCsvAsync(string id, string importId, HttpContext http, ImportService imports, CancellationToken ct) =>
        ImportReportAsync(id, importId, "rejected-rows", http, imports, imports.WriteErrorsCsvAsync, ct);

    private static Task<IResult> DuplicatesCsvAsync(string id, string importId, HttpContext http, ImportService imports, CancellationToken ct) =>
        ImportReportAsync(id, importId, "merged-duplicates", http, imports, imports.WriteDuplicatesCsvAsync, ct);

    /// <summary>Streams one of an import's CSV reports as a download named for the import and the report.</summary>
    private static async Task<IResult> ImportReportAsync(string id, string importId, string report, HttpContext http, ImportService imports,
        Func<long, Stream, CancellationToken, Task> write, CancellationToken ct)
    {
        if (!PublicId.TryDecode(PublicId.Group, id, out var groupKey) || !PublicId.TryDecode(PublicId.Import, importId, out var importKey) ||
            await imports.GetAsync(groupKey, importKey, ct) is null)
        {
            return ApiError.NotFound("No import with that id in this group.");
        }
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{importId}-{report}.csv\"";
        await write(importKey, http.Response.Body, ct);
        return Results.Empty;
    }

    /// <remarks>
    /// <c>search</c> is the start of a number, or with <c>variable</c> text that variable's value contains. Values longer than
    /// <see cref="RecipientView.DisplayChars"/> come cut, ending with "…", unless <c>full=true</c>.
    /// </remarks>
    private static async Task<IResult> RecipientsAsync(string id, HttpRequest request, GroupService groups, CancellationToken ct)
    {
        var validation = new ApiValidation();
        var page = PageRequest.From(request, validation);
        var full = request.Query["full"].ToString() is var fullText && (fullText.Length == 0 || fullText.Equals("false", StringComparison.OrdinalIgnoreCase))
            ? false
            : fullText.Equals("true", StringComparison.OrdinalIgnoreCase) ? true : (bool?)null;
        if (full is null)
        {
            validation.Add("full", "full must be true or false.");
        }
        if (!PublicId.TryDecode(PublicId.Group, id, out var groupKey) || await groups.GetAsync(groupKey, ct) is not { } group)
        {
            return validation.IsValid ? GroupNotFound() : validation.ToResult();
        }
        var filter = GroupService.Filter(group, request.Query["search"], request.Query["variable"], out var field, out var error);
        if (filter is null)
        {
            validation.Add(field!, error!);
        }
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        var rows = await groups.RecipientsAsync(groupKey, page.After, page.PageSize + 1, filter!, ct);
        var (items, pagination) = PageLinks.Page(request, page, rows, r => r.Key);
        return Results.Ok(new RecipientList(items.Select(r => new RecipientDto(r.Id, r.Address, r.Channel, full == true ? r.Variables : r.ShortVariables(), r.CreatedAt.UtcDateTime)), pagination));
    }

    private static async Task<IResult> ExportAsync(string id, HttpContext http, GroupService groups, CancellationToken ct)
    {
        if (!PublicId.TryDecode(PublicId.Group, id, out var groupKey) || await groups.GetAsync(groupKey, ct) is not { } group)
        {
            return GroupNotFound();
        }
        http.Response.ContentType = "text/csv; charset=utf-8";
        var safeName = new string(group.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray());
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{(safeName.Length > 0 ? safeName : group.Id)}.csv\"";
        await groups.ExportAsync(groupKey, http.Response.Body, ct);
        return Results.Empty;
    }
}
