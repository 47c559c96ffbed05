using BulkCampaigns.Campaigns;
using BulkCampaigns.Data;
using BulkCampaigns.Operations;
using BulkCampaigns.Senders;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Campaigns;

/// <summary>A test send from the wizard's review goes to the marketer's own numbers; it is not a campaign to list or count.</summary>
public sealed class TestSendsHiddenTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task A_test_send_is_kept_out_of_the_campaigns_list_and_the_totals()
    {
        app.CreateClient().Dispose();
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            var now = DateTimeOffset.UtcNow;
            var sender = new Sender { Address = "+13125550177", Channel = "SMS", Mps = 10, CreatedAt = now, UpdatedAt = now };
            db.Add(sender);
            await db.SaveChangesAsync();
            db.AddRange(
                new Operation
                {
                    Name = "[TEST] Spring sale", IsTest = true, Status = OperationStatus.Processing, Total = 2, Sent = 2, SenderId = sender.Id,
                    FromAddress = sender.Address, FromChannel = "SMS", ContentJson = "{}", CreatedAt = now, UpdatedAt = now,
                },
                new Operation
                {
                    Name = "Spring sale", Status = OperationStatus.Scheduled, Total = 500, SenderId = sender.Id,
                    FromAddress = sender.Address, FromChannel = "SMS", ContentJson = "{}", CreatedAt = now, UpdatedAt = now,
                });
            await db.SaveChangesAsync();
        }
        var queries = app.Services.GetRequiredService<CampaignQueries>();

        var page = await queries.CampaignsAsync(new CampaignFilter(), 50, null);
        var totals = await queries.TotalsAsync();

        Assert.Equal(["Spring sale"], page.Rows.Select(r => r.Name));
        Assert.Equal(new CampaignTotals(1, 0, 1, 500, 0, 0, 0), totals);
    }
}
