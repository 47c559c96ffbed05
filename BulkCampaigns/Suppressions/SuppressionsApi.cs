using BulkCampaigns.Api;
using BulkCampaigns.Auth;
using BulkCampaigns.Recipients;

namespace BulkCampaigns.Suppressions;

/// <summary><c>/v1/Suppressions</c>: opted-out addresses (docs/api.md: Suppressions).</summary>
public static class SuppressionsApi
{
    /// <summary>A suppression CSV is a list of addresses: small next to a recipient file, read in one go.</summary>
    public const long MaxImportBytes = 50 * 1024 * 1024;

    public sealed record SuppressionBody(string? Address, string? Reason);

    public sealed record SuppressionImportDto(long RowsRead, long Added, long AlreadySuppressed, long Rejected, IEnumerable<ImportErrorDto> Errors);

    public sealed record SuppressionList(IEnumerable<SuppressionDto> Suppressions, Pagination Pagination);

    public sealed record SuppressionDto(string Address, string? Reason, string Source, DateTime CreatedAt);

    public sealed record ImportErrorDto(long Row, long Line, string? Column, string? Value, string Reason);

    public static RouteGroupBuilder MapSuppressionsApi(this RouteGroupBuilder v1)
    {
        var group = v1.MapGroup("/Suppressions").WithTags("Suppressions");
        group.MapGet("/", ListAsync).Produces<SuppressionList>().Describes("ListSuppressions", "List suppressed addresses").Paged()
            .QueryParameter("search", OpenApiDocument.Text(), "Only addresses that start with these digits.");
        group.MapPost("/", AddAsync).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces<SuppressionDto>(201).Produces<SuppressionDto>()
            .Describes("AddSuppression", "Suppress an address");
        group.MapPost("/Imports", ImportAsync).RequireAuthorization(AuthSetup.ApiWritePolicy).DisableAntiforgery()
            .DocumentsCsvBody().Produces<SuppressionImportDto>().Produces<ApiError>(413)
            .Describes("ImportSuppressions", "Suppress the addresses of a CSV file")
            .QueryParameter("defaultRegion", OpenApiDocument.Text(), "Two-letter country code for numbers written without a country code (default: the app's).");
        group.MapGet("/{address}", GetAsync).Produces<SuppressionDto>().Describes("GetSuppression", "Get a suppressed address");
        group.MapDelete("/{address}", RemoveAsync).RequireAuthorization(AuthSetup.ApiWritePolicy).Produces(204).Describes("RemoveSuppression", "Stop suppressing an address");
        return v1;
    }

    internal static SuppressionDto ToDto(Suppression s) => new(s.Address, s.Reason, s.Source, s.CreatedAt.UtcDateTime);

    private static async Task<IResult> ListAsync(HttpRequest request, SuppressionService suppressions, CancellationToken ct)
    {
        var validation = new ApiValidation();
        var page = PageRequest.From(request, validation);
        var prefix = GroupService.SearchPrefix(request, validation);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        var rows = await suppressions.ListAsync(page.After, page.PageSize + 1, prefix, ct);
        var (items, pagination) = PageLinks.Page(request, page, rows, s => s.Id);
        return Results.Ok(new SuppressionList(items.Select(ToDto), pagination));
    }

    private static async Task<IResult> AddAsync(SuppressionBody? body, SuppressionService suppressions, RecipientOptions options, CancellationToken ct)
    {
        var validation = new ApiValidation();
        string e164 = "";
        if (string.IsNullOrWhiteSpace(body?.Address))
        {
            validation.Add("address", "address is required (an E.164 number such as +15551230000).");
        }
        else if (!PhoneAddress.TryNormalize(body.Address, options.DefaultRegion, out e164, out var error))
        {
            validation.Add("address", $"'{body.Address}' is {error}.");
        }
        if (body?.Reason is { Length: > 500 })
        {
            validation.Add("reason", "reason is longer than 500 characters.");
        }
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }
        var added = await suppressions.AddAsync(e164, body!.Reason, "api", ct);
        var stored = await suppressions.FindAsync(e164, ct);
        return added
            ? Results.Created($"/v1/Suppressions/{Uri.EscapeDataString(e164)}", ToDto(stored!))
            : Results.Ok(ToDto(stored!));
    }

    private static async Task<IResult> GetAsync(string address, SuppressionService suppressions, RecipientOptions options, CancellationToken ct) =>
        PhoneAddress.TryNormalize(address, options.DefaultRegion, out var e164, out _) && await suppressions.FindAsync(e164, ct) is { } found
            ? Results.Ok(ToDto(found))
            : ApiError.NotFound("That address is not suppressed.");

    private static async Task<IResult> RemoveAsync(string address, SuppressionService suppressions, RecipientOptions options, CancellationToken ct) =>
        PhoneAddress.TryNormalize(address, options.DefaultRegion, out var e164, out _) && await suppressions.RemoveAsync(e164, ct)
            ? Results.NoContent()
            : ApiError.NotFound("That address is not suppressed.");

    /// <summary>Adds the addresses of a CSV (body as text/csv); answers with what was added and every problem row (first 100).</summary>
    private static async Task<IResult> ImportAsync(HttpRequest request, SuppressionService suppressions, RecipientOptions options, CancellationToken ct)
    {
        if (request.ContentLength > MaxImportBytes)
        {
            return new ApiError(413, ApiError.Codes.PayloadTooLarge, $"A suppression file may be up to {MaxImportBytes / (1024 * 1024)} MB.").ToResult();
        }
        var region = request.Query["defaultRegion"].ToString() is { Length: > 0 } r ? r.ToUpperInvariant() : options.DefaultRegion;
        if (!PhoneAddress.IsKnownRegion(region))
        {
            var validation = new ApiValidation();
            validation.Add("defaultRegion", $"defaultRegion must be a two-letter country code such as US, GB or DE, not '{region}'.");
            return validation.ToResult();
        }
        var result = await suppressions.ImportCsvAsync(request.Body, region, ct);
        if (result.Error is not null)
        {
            return ApiError.BadRequest(result.Error);
        }
        return Results.Ok(new SuppressionImportDto(result.RowsRead, result.Added, result.AlreadySuppressed, result.Rejected,
            result.Errors.Select(e => new ImportErrorDto(e.Row, e.Line, e.Column, e.Value, e.Reason))));
    }
}
