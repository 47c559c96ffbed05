using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Operating;

public sealed class HealthTests
{
    [Fact]
    public async Task Healthz_answers_while_the_process_runs_and_names_the_node()
    {
        using var app = new AppFactory();
        app.Settings["Node:Name"] = "node-a";

        var response = await app.CreateClient().GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal("node-a", body.GetProperty("node").GetString());
        Assert.Empty(body.GetProperty("checks").EnumerateObject());
    }

    [Fact]
    public async Task Without_a_node_name_the_node_is_the_host_name_and_process_id()
    {
        using var app = new AppFactory();

        var body = await app.CreateClient().GetFromJsonAsync<JsonElement>("/readyz");

        Assert.Equal($"{Environment.MachineName}:{Environment.ProcessId}", body.GetProperty("node").GetString());
    }

    [Fact]
    public async Task Readyz_is_ready_when_the_database_answers_and_says_it_checked_it()
    {
        using var app = new AppFactory();

        var response = await app.CreateClient().GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_configured_Redis_that_does_not_answer_makes_the_node_not_ready_but_still_alive()
    {
        using var app = new AppFactory();
        app.Settings["ConnectionStrings:Redis"] = $"127.0.0.1:{AppProcess.FreePort()},abortConnect=false";
        var client = app.CreateClient();

        var ready = await client.GetAsync("/readyz");
        var live = await client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Unhealthy", body.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }
}
