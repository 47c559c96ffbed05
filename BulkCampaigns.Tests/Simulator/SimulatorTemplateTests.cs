using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Content.TwilioTemplates;
using BulkCampaigns.Tests.Dispatch;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Simulator;

public sealed class SimulatorTemplateTests(ExactSimulatorApp app) : IClassFixture<ExactSimulatorApp>
{
    [Fact]
    public async Task The_Simulator_lists_its_templates_and_its_phones_show_the_template_filled_for_each_recipient()
    {
        using var client = app.CreateApiClient();
        var templates = (await client.GetFromJsonAsync<JsonElement>("/v1/ContentTemplates")).GetProperty("templates").EnumerateArray().ToList();
        var order = Assert.Single(templates, t => t.GetProperty("sid").GetString() == SimulatorTemplates.OrderUpdate);
        Assert.Equal("Hi Ann, your order A-1001 has shipped. Track it in the app.", order.GetProperty("preview").GetString());
        Assert.Contains(templates, t => t.GetProperty("approval").GetProperty("whatsapp").GetString() == "pending");

        const string from = "+14155550701";
        await CreateSenderAsync(client, from, 100);
        var id = await SendAsync(client, new
        {
            from = new { address = from },
            to = new[] { new { address = Number(9400), variables = new { name = "Élodie", order = "B-7" } }, new { address = Number(9401), variables = new { name = "Sam", order = "B-8" } } },
            content = new { contentSid = SimulatorTemplates.OrderUpdate, contentVariables = new Dictionary<string, string> { ["1"] = "{{name}}", ["2"] = "{{order}}" } },
        });
        await WaitForStatusAsync(client, id, "COMPLETED");

        var received = await SimulatorMessagesAsync(client, "&from=%2B14155550701");
        Assert.Equal("Hi Élodie, your order B-7 has shipped. Track it in the app.", received.Single(m => m.GetProperty("to").GetString() == Number(9400)).GetProperty("body").GetString());
        Assert.Equal("Hi Sam, your order B-8 has shipped. Track it in the app.", received.Single(m => m.GetProperty("to").GetString() == Number(9401)).GetProperty("body").GetString());
    }

    [Fact]
    public async Task A_template_previews_filled_for_the_recipient_and_an_unmapped_variable_is_named()
    {
        using var client = app.CreateApiClient();
        var preview = await client.PostAsJsonAsync("/v1/Content/Preview", new
        {
            content = new { contentSid = SimulatorTemplates.OrderUpdate, contentVariables = new Dictionary<string, string> { ["1"] = "{{name | upcase}}", ["2"] = "{{order}}" } },
            variables = new { name = "Ann", order = "Q-1" },
        });
        var body = await preview.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(preview.IsSuccessStatusCode, body.ToString());
        Assert.Equal("Hi ANN, your order Q-1 has shipped. Track it in the app.", body.GetProperty("text").GetString());

        var missing = await client.PostAsJsonAsync("/v1/Content/Preview", new
        {
            content = new { contentSid = SimulatorTemplates.OrderUpdate, contentVariables = new Dictionary<string, string> { ["1"] = "{{name}}" } },
        });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, missing.StatusCode);
        var error = Assert.Single((await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray());
        Assert.Equal("content.contentVariables.2", error.GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_preview_for_a_WhatsApp_sender_warns_about_free_text_and_refuses_a_template_WhatsApp_rejected_by_name()
    {
        using var client = app.CreateApiClient();
        var free = await client.PostAsJsonAsync("/v1/Content/Preview", new { content = new { text = "Hi {{name}}" }, variables = new { name = "Ann" }, channel = "WHATSAPP" });
        var freeBody = await free.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(free.IsSuccessStatusCode, freeBody.ToString());
        Assert.Contains(freeBody.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.StartsWith("Outside a 24-hour session WhatsApp needs an approved template", StringComparison.Ordinal));

        // The same text for an SMS sender, and an approved template for WhatsApp, carry no such warning.
        var sms = await (await client.PostAsJsonAsync("/v1/Content/Preview", new { content = new { text = "Hi {{name}}" }, variables = new { name = "Ann" }, channel = "SMS" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.DoesNotContain(sms.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("WhatsApp", StringComparison.Ordinal));
        var approved = await client.PostAsJsonAsync("/v1/Content/Preview", new
        {
            content = new { contentSid = SimulatorTemplates.OrderUpdate, contentVariables = new Dictionary<string, string> { ["1"] = "{{name}}", ["2"] = "{{order}}" } },
            variables = new { name = "Ann", order = "Q-1" },
            channel = "WHATSAPP",
        });
        var approvedBody = await approved.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(approved.IsSuccessStatusCode, approvedBody.ToString());
        Assert.DoesNotContain(approvedBody.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("WhatsApp", StringComparison.Ordinal));

        var rejected = await client.PostAsJsonAsync("/v1/Content/Preview", new
        {
            content = new { contentSid = SimulatorTemplates.LoginCode, contentVariables = new Dictionary<string, string> { ["1"] = "{{code}}" } },
            variables = new { code = "K-1" },
            channel = "WHATSAPP",
        });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, rejected.StatusCode);
        var problem = Assert.Single((await rejected.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray());
        Assert.Equal("content.contentSid", problem.GetProperty("field").GetString());
        Assert.Contains("\"login_code\" is not approved for WhatsApp", problem.GetProperty("message").GetString(), StringComparison.Ordinal);

        var unknown = await client.PostAsJsonAsync("/v1/Content/Preview", new { content = new { text = "Hi" }, channel = "PIGEON" });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("channel", Assert.Single((await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray()).GetProperty("field").GetString());
    }
}
