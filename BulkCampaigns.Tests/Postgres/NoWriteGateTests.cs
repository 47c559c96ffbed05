using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BulkCampaigns.Data;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Recipients;
using Microsoft.Extensions.DependencyInjection;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Postgres;

/// <summary>
/// SQLite's single-writer gate has no place on PostgreSQL: it is not registered there, and everything the app does
/// (an import, a send to a group, a send to a segment) runs without it.
/// </summary>
public sealed class NoWriteGateTests
{
    [Fact]
    public async Task On_PostgreSQL_there_is_no_write_gate_and_imports_and_sends_to_a_group_and_a_segment_still_work()
    {
        using var app = new PostgresExactSimulatorApp();
        var client = app.CreateApiClient();

        Assert.Null(app.Services.GetService<WriteGate>());

        var group = await client.CreateGroupAsync("Plans");
        var import = await client.ImportAsync(group, "phone,First Name,plan\n" +
            "2015550301,Ann,pro\n" +
            "2015550302,Bob,free\n" +
            "2015550303,Cy,PRO\n");
        Assert.Equal("COMPLETED", import.GetProperty("status").GetString());
        Assert.Equal(3, import.GetProperty("imported").GetInt64());

        await CreateSenderAsync(client, "+15551230301", 1000);
        var toGroup = await SendAsync(client, new { from = new { address = "+15551230301", channel = "SMS" }, to = new object[] { new { groupId = group } }, content = new { text = "Hi {{ first_name }}" } });
        var op = await WaitForAsync(client, toGroup, o => o.GetProperty("status").GetString() == "COMPLETED" && Stat(o, "delivered") == 3);
        AssertStatsAddUp(op);

        var created = await client.PostAsync("/v1/Segments", new StringContent(
            $$$"""{"name": "Pros", "groupIds": ["{{{group}}}"], "filter": {"variable": "plan", "op": "eq", "value": "pro"}}""", Encoding.UTF8, "application/json"));
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var segment = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await CreateSenderAsync(client, "+15551230302", 1000);
        var toSegment = await SendAsync(client, new { from = new { address = "+15551230302", channel = "SMS" }, to = new object[] { new { segmentId = segment } }, content = new { text = "Hi" } });
        op = await WaitForAsync(client, toSegment, o => o.GetProperty("status").GetString() == "COMPLETED" && Stat(o, "delivered") == 2);
        AssertStatsAddUp(op);
        var received = (await SimulatorMessagesAsync(client, "&from=%2B15551230302")).Select(m => m.GetProperty("to").GetString()).Order();
        Assert.Equal(["+12015550301", "+12015550303"], received);
    }
}
