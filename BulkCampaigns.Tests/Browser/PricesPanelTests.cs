using BulkCampaigns.Campaigns;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace BulkCampaigns.Tests.Browser;

[Trait(DatabaseTrait.Name, DatabaseTrait.PagesOnly)]
[Collection(BrowserCollection.Name)]
public sealed class PricesPanelTests(BrowserApp browser)
{
    [Fact]
    public async Task An_admin_keeps_a_price_per_segment_for_a_channel_in_settings()
    {
        await using var session = await browser.SignedInPageAsync();
        var page = session.Page;
        await page.GotoAsync("/settings");
        await session.WaitForInteractiveAsync();

        await page.GetByRole(AriaRole.Tab, new() { Name = "Prices" }).ClickAsync();
        await page.GetByLabel("WHATSAPP price").FillAsync("0.0123");
        await page.GetByLabel("WHATSAPP price").BlurAsync();
        await page.GetByTestId("save-prices").ClickAsync();

        await Assertions.Expect(page.GetByText("Prices saved.")).ToBeVisibleAsync();
        var price = await browser.App.Services.GetRequiredService<ChannelPrices>().GetAsync("WHATSAPP");
        Assert.Equal((0.0123m, "USD"), (price!.PricePerSegment, price.Currency));
    }
}
