using System.Globalization;
using BulkCampaigns.Api;
using BulkCampaigns.Hosting;
using BulkCampaigns.Recipients;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Simulator;

public sealed record SimulatorMessageList(IEnumerable<SimulatorMessageView> Messages, Pagination Pagination);

public static class SimulatorEndpoints
{
    public static RouteGroupBuilder MapSimulatorApi(this RouteGroupBuilder v1)
    {
        v1.MapGet("/Simulator/Messages", async (HttpRequest request, SimulatorInbox inbox, IOptions<MessagingOptions> messaging, CancellationToken ct) =>
        {
            var validation = new ApiValidation();
            var page = PageRequest.From(request, validation);
            var region = messaging.Value.Region;
            string? Address(string name)
            {
                var text = request.Query[name].ToString();
                return text.Length == 0 ? null : PhoneAddress.TryNormalize(text, region, out var e164, out _) ? e164 : text;
            }
            DateTimeOffset? sentAfter = null;
            var afterText = request.Query["sentAfter"].ToString();
            if (afterText.Length > 0)
            {
                if (DateTimeOffset.TryParse(afterText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var after))
                {
                    sentAfter = after;
                }
                else
                {
                    validation.Add("sentAfter", "sentAfter must be an ISO-8601 timestamp.");
                }
            }
            if (!validation.IsValid)
            {
                return validation.ToResult();
            }
            var rows = await inbox.ListAsync(Address("to"), Address("from"), sentAfter, page.After, page.PageSize + 1, ct);
            var (items, pagination) = PageLinks.Page(request, page, rows, r => r.Key);
            return Results.Ok(new SimulatorMessageList(items.Select(r => r.View), pagination));
        }).WithTags("Simulator").Produces<SimulatorMessageList>().Describes("ListSimulatorMessages", "List the messages the simulator received").Paged()
            .QueryParameter("to", OpenApiDocument.Text(), "Only messages to this address.")
            .QueryParameter("from", OpenApiDocument.Text(), "Only messages from this address.")
            .QueryParameter("sentAfter", OpenApiDocument.Text("date-time"), "Only messages sent after this time (ISO-8601).");
        return v1;
    }
}
