using BulkCampaigns.Components.Pages.Content;
using BulkCampaigns.Content;
using BulkCampaigns.Content.TwilioTemplates;
using BulkCampaigns.Data;
using BulkCampaigns.Hosting;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Components.Content;

/// <summary>The designer's Twilio template picker when Twilio's Content API does not answer: the reason, not an empty list.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class TwilioCatalogueErrorTests : MudTestContext
{

    public TwilioCatalogueErrorTests()
    {
        AddDatabaseFile();
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<TemplateRenderer>();
        // A real client of the Content API, pointed at a loopback port nothing listens on.
        Services.Configure<TwilioOptions>(o =>
        {
            o.AccountSid = "AC00000000000000000000000000000001";
            o.AuthToken = "token";
            o.ContentBaseUrl = "http://127.0.0.1:9";
        });
        Services.AddHttpClient(TwilioContentApi.HttpClientName, TwilioContentApi.Configure);
        Services.AddSingleton<ITwilioTemplateSource, TwilioContentApi>();
        Services.AddSingleton<ContentService>();
        MigrateDatabase();
    }

    [Fact]
    public void When_Twilio_does_not_answer_the_picker_says_so_instead_of_showing_no_templates()
    {
        RenderPopoverProvider();
        var cut = Render<ContentDesigner>(p => p
            .Add(d => d.Content, new MessageContent { ContentSid = "", ContentVariables = [] })
            .Add(d => d.PreviewDelay, TimeSpan.Zero));

        cut.WaitForAssertion(() => Assert.Contains("Twilio's Content API did not answer", cut.Find("[data-testid=template-catalogue-error]").TextContent, StringComparison.Ordinal),
            TimeSpan.FromSeconds(20));
        Assert.Empty(cut.FindAll("[data-testid=template-list]"));
        Assert.NotNull(cut.Find("[data-testid=template-refresh]"));
    }


}
