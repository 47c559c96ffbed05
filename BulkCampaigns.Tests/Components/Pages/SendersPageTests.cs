using BulkCampaigns.Auth;
using BulkCampaigns.Components.Pages.Senders;
using BulkCampaigns.Components.Pages.Simulator;
using BulkCampaigns.Senders;
using BulkCampaigns.Simulator;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Components.Pages;

/// <summary>The Senders and Simulator pages rendered with the real services of an app on its own database.</summary>
public sealed class SendersPageTests : MudTestContext, IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public SendersPageTests(AppFactory app)
    {
        _app = app;
        _app.CreateClient().Dispose(); // starts the app: database migrated, services built
        Services.AddSingleton(_app.Services.GetRequiredService<SenderService>());
        Services.AddSingleton(_app.Services.GetRequiredService<SimulatorInbox>());
        var auth = AddAuthorization();
        auth.SetAuthorized("admin@example.com");
        auth.SetRoles(Roles.Admin);
        auth.SetPolicies(AuthSetup.WritePolicy);
    }

    [Fact]
    public async Task The_senders_page_lists_the_registered_senders_with_their_MPS()
    {
        await _app.Services.GetRequiredService<SenderService>().CreateAsync("+14155550501", "SMS", 25);

        var cut = Render<SendersPage>();

        cut.WaitForAssertion(() => Assert.Contains("+14155550501", cut.Markup, StringComparison.Ordinal));
        Assert.Contains("Add sender", cut.Markup, StringComparison.Ordinal);
        Assert.Contains("MPS of +14155550501", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void The_simulator_page_asks_to_pick_a_phone_when_none_is_chosen()
    {
        var cut = Render<SimulatorPage>();

        cut.WaitForAssertion(() => Assert.Contains("Pick a phone to see its inbox.", cut.Markup, StringComparison.Ordinal));
    }
}
