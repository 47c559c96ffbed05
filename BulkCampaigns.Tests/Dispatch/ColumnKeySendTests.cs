using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

public sealed class ColumnKeySendTests(ExactSimulatorApp app) : IClassFixture<ExactSimulatorApp>
{
    [Fact]
    public async Task A_send_to_a_group_with_a_first_name_column_carries_the_value_read_by_its_key()
    {
        using var client = app.CreateApiClient();
        await CreateSenderAsync(client, "+14155550160", 1000);
        var group = await InsertGroupAsync(app.Settings.ConnectionString(app),
        [
            (Number(9001), """{"First Name":"Ana","last_name":"Silva","City":"Lisbon","Plan":"Gold","signup_date":"2026-01-05"}"""),
            (Number(9002), """{"First Name":"","last_name":"Ng","City":"Oslo","Plan":"Basic","signup_date":"2026-02-01"}"""),
        ]);

        var id = await SendAsync(client, new
        {
            from = new { address = "+14155550160", channel = "SMS" },
            to = new object[] { new { groupId = group } },
            content = new { text = "Hi {{ first_name | default: 'there' }} from {{ city | upcase }}, {{ plan }}" },
        });
        await WaitForStatusAsync(client, id, "COMPLETED");

        var bodies = (await SimulatorMessagesAsync(client, "&from=%2B14155550160"))
            .ToDictionary(m => m.GetProperty("to").GetString()!, m => m.GetProperty("body").GetString());
        Assert.Equal("Hi Ana from LISBON, Gold", bodies[Number(9001)]);
        Assert.Equal("Hi there from OSLO, Basic", bodies[Number(9002)]);
    }
}
