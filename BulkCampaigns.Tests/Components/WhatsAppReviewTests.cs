using System.Net;
using System.Net.Http.Json;
using BulkCampaigns.Auth;
using BulkCampaigns.Campaigns;
using BulkCampaigns.Components.Pages.Campaigns.Wizard;
using BulkCampaigns.Content;
using BulkCampaigns.Content.TwilioTemplates;
using BulkCampaigns.Senders;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Components;

/// <summary>The wizard's review with a WhatsApp sender: free text warned about, a template WhatsApp has not approved refused by name.</summary>
public sealed class WhatsAppReviewTests : MudTestContext, IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public WhatsAppReviewTests(AppFactory app)
    {
        _app = app;
        _app.CreateClient().Dispose();
        Services.AddSingleton(_app.Services.GetRequiredService<CampaignLauncher>());
        Services.AddSingleton(_app.Services.GetRequiredService<ContentService>());
        Services.AddSingleton(_app.Services.GetRequiredService<SenderService>());
        var auth = AddAuthorization();
        auth.SetAuthorized("admin@example.com");
        auth.SetRoles(Roles.Admin);
        auth.SetPolicies(AuthSetup.WritePolicy);
    }

    private async Task<DraftData> DraftAsync(string senderAddress, string channel, MessageContent content)
    {
        using var client = _app.CreateApiClient();
        var response = await client.PostAsJsonAsync("/v1/Senders", new { address = senderAddress, channel, mps = 10 });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var senderId = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString();
        var groupId = await InsertGroupAsync(_app.Database.ConnectionString, [(Number(9500), """{"first_name":"Ann","order":"Z-9"}""")]);
        return new DraftData { Name = "WhatsApp test", GroupIds = [groupId], SenderId = senderId, ContentJson = content.ToJson() };
    }

    private IRenderedComponent<ReviewStep> RenderReview(DraftData draft)
    {
        RenderPopoverProvider();
        var cut = Render<ReviewStep>(p => p.Add(r => r.Draft, draft));
        cut.WaitForElement("[data-testid=review-figures]", TimeSpan.FromSeconds(10));
        return cut;
    }

    private static MessageContent Template(string sid, params (string Name, string Value)[] variables) =>
        new() { ContentSid = sid, ContentVariables = variables.ToDictionary(v => v.Name, v => v.Value) };

    [Fact]
    public async Task A_WhatsApp_sender_with_free_text_is_warned_that_outside_a_session_WhatsApp_needs_an_approved_template()
    {
        var draft = await DraftAsync("+14155550801", "WHATSAPP", MessageContent.FromText("Hi {{first_name}}"));

        var cut = RenderReview(draft);

        Assert.Contains("Outside a 24-hour session WhatsApp needs an approved template", cut.Find("[data-testid=whatsapp-warning]").TextContent, StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("[data-testid=template-problem]"));
        Assert.Empty(await _app.Services.GetRequiredService<CampaignLauncher>().CheckAsync(draft));
    }

    [Fact]
    public async Task A_template_WhatsApp_has_not_approved_is_refused_on_a_WhatsApp_sender_naming_it()
    {
        var draft = await DraftAsync("+14155550802", "WHATSAPP", Template(SimulatorTemplates.LoginCode, ("1", "{{order}}")));

        var cut = RenderReview(draft);

        Assert.Contains("Template \"login_code\" is not approved for WhatsApp (its status: rejected)", cut.Find("[data-testid=template-problem]").TextContent, StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("[data-testid=whatsapp-warning]"));
        Assert.Equal("Your login code is Z-9. It expires in 10 minutes.", cut.Find("[data-testid=review-sample]").TextContent);
        var (operationId, problems) = await _app.Services.GetRequiredService<CampaignLauncher>().LaunchAsync(draft, null);
        Assert.Null(operationId);
        Assert.Contains(problems, p => p.Step == WizardStep.Content && p.Message.Contains("\"login_code\" is not approved for WhatsApp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_approved_template_on_a_WhatsApp_sender_has_neither_warning_nor_problem_and_the_same_template_on_SMS_is_fine_unapproved()
    {
        var approved = await DraftAsync("+14155550803", "WHATSAPP", Template(SimulatorTemplates.OrderUpdate, ("1", "{{first_name}}"), ("2", "{{order}}")));
        var cut = RenderReview(approved);
        Assert.Empty(cut.FindAll("[data-testid=whatsapp-warning]"));
        Assert.Empty(cut.FindAll("[data-testid=template-problem]"));
        Assert.Equal("Hi Ann, your order Z-9 has shipped. Track it in the app.", cut.Find("[data-testid=review-sample]").TextContent);

        var sms = await DraftAsync("+14155550804", "SMS", Template(SimulatorTemplates.LoginCode, ("1", "{{order}}")));
        Assert.Empty(await _app.Services.GetRequiredService<CampaignLauncher>().CheckAsync(sms));
    }

    [Fact]
    public async Task A_template_with_a_variable_left_unmapped_is_a_problem_of_the_content_step()
    {
        var draft = await DraftAsync("+14155550805", "SMS", Template(SimulatorTemplates.OrderUpdate, ("1", "{{first_name}}")));

        var problems = await _app.Services.GetRequiredService<CampaignLauncher>().CheckAsync(draft);

        var problem = Assert.Single(problems);
        Assert.Equal(WizardStep.Content, problem.Step);
        Assert.Contains("{{2}}", problem.Message, StringComparison.Ordinal);
    }
}
