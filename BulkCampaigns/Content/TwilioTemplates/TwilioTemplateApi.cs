using BulkCampaigns.Api;

namespace BulkCampaigns.Content.TwilioTemplates;

public sealed record TwilioTemplateApprovalResponse(string Whatsapp);

public sealed record TwilioTemplateResponse(
    string Sid,
    string FriendlyName,
    string Language,
    IReadOnlyDictionary<string, string> Variables,
    IReadOnlyList<string> Types,
    string Preview,
    TwilioTemplateApprovalResponse Approval)
{
    public static TwilioTemplateResponse From(TwilioTemplate t) =>
        new(t.Sid, t.FriendlyName, t.Language, t.Variables, t.Types, t.Preview, new TwilioTemplateApprovalResponse(t.Approval.Whatsapp));
}

/// <param name="ReadAt">When the list was read from the provider (it is kept for 5 minutes; <c>refresh=true</c> reads it again).</param>
public sealed record TwilioTemplateList(IReadOnlyList<TwilioTemplateResponse> Templates, DateTime ReadAt);

/// <summary><c>GET /v1/ContentTemplates</c>: the provider's Twilio templates, which a content names by <c>contentSid</c>.</summary>
public static class TwilioTemplateApi
{
    public const int ProviderErrorCode = 20502;

    public static RouteGroupBuilder MapTwilioTemplateApi(this RouteGroupBuilder v1)
    {
        v1.MapGet("/ContentTemplates", async (HttpRequest request, ContentService service, CancellationToken ct) =>
        {
            var refresh = request.Query["refresh"].ToString();
            if (refresh is not ("" or "true" or "false"))
            {
                var validation = new ApiValidation();
                validation.Add("refresh", "refresh must be true or false.");
                return validation.ToResult();
            }
            try
            {
                var catalogue = await service.TwilioTemplatesAsync(refresh == "true", ct);
                return Results.Ok(new TwilioTemplateList(catalogue.Templates.Select(TwilioTemplateResponse.From).ToList(), catalogue.ReadAt.UtcDateTime));
            }
            catch (TwilioTemplateCatalogueException ex)
            {
                // The provider's failure, said plainly: an empty list would read as "you have no templates".
                return new ApiError(StatusCodes.Status502BadGateway, ProviderErrorCode, ex.Message).ToResult();
            }
        }).WithTags("Content").Produces<TwilioTemplateList>().Produces<ApiError>(StatusCodes.Status502BadGateway)
            .QueryParameter("refresh", new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.Boolean }, "true reads the templates from the provider again instead of the copy kept for 5 minutes.")
            .Describes("ListContentTemplates", "List the provider's Twilio content templates");
        return v1;
    }
}
