using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Auth;
using BulkCampaigns.Dispatch;
using Microsoft.Extensions.DependencyInjection;
using BulkCampaigns.Tests.Infrastructure;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
public sealed class LeaseTests(ExactSimulatorApp app) : LeaseTests<ExactSimulatorApp>(app);

/// <summary>On PostgreSQL, where the lease is on the server's clock and other nodes may hold claims.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class LeaseTestsOnPostgres(PostgresExactSimulatorApp app) : LeaseTests<PostgresExactSimulatorApp>(app);

/// <summary>A claim belongs to its node while its lease lives; the node lists itself in <c>/v1/Nodes</c>.</summary>
public abstract class LeaseTests<TApp>(TApp app) : IClassFixture<TApp>
    where TApp : Infrastructure.AppFactory
{
    [Fact]
    public async Task A_claim_under_another_nodes_live_lease_is_left_alone_and_settled_once_the_lease_runs_out()
    {
        using var client = app.CreateApiClient();
        string[] addresses = [Number(8700), Number(8701), Number(8702)];
        var (id, operationId) = await app.StrandedOperationAsync(client, "+14155550291", addresses, "Leased", [addresses[0]], DateTimeOffset.UtcNow.AddMinutes(-9));
        // Another node's batch, its lease an hour ahead: that node is alive and sending.
        var liveUntil = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds();
        await app.ExecuteSqlAsync($"""UPDATE "ClaimedBatches" SET "NodeId" = 987654, "LeaseUntil" = {liveUntil} WHERE "OperationId" = {operationId}""");

        var sweeper = app.Services.GetRequiredService<InFlightSweeper>();
        Assert.Equal(0, await sweeper.SweepAsync(CancellationToken.None));
        Assert.Equal(0, await app.Services.GetRequiredService<DispatchJobs>().SettleInFlightAsync(operationId, CancellationToken.None));
        Assert.Equal(1, await app.ScalarAsync($"""SELECT COUNT(*) FROM "ClaimedBatches" WHERE "OperationId" = {operationId}"""));
        // Only what that node's batch had sent so far is with the carrier: nothing was sent again.
        Assert.Equal([addresses[0]], (await SimulatorMessagesAsync(client, "&from=%2B14155550291")).Select(m => m.GetProperty("to").GetString()!));

        // The node died: its lease runs out, and this node settles the claim with the provider and sends the rest.
        await app.ExecuteSqlAsync($"""UPDATE "ClaimedBatches" SET "LeaseUntil" = 0 WHERE "OperationId" = {operationId}""");
        Assert.Equal(3, await sweeper.SweepAsync(CancellationToken.None));

        var op = await WaitForStatusAsync(client, id, "COMPLETED");
        Assert.Equal(3, Stat(op, "sent") + Stat(op, "delivered"));
        AssertStatsAddUp(op);
        var received = await SimulatorMessagesAsync(client, "&from=%2B14155550291");
        Assert.Equal(addresses.Order(), received.Select(m => m.GetProperty("to").GetString()!).Order());
    }

    [Fact]
    public async Task The_heartbeat_renews_the_lease_of_a_running_batch_and_stops_one_whose_lease_ran_out()
    {
        using var client = app.CreateApiClient();
        string[] addresses = [Number(8710), Number(8711)];
        var (_, operationId) = await app.StrandedOperationAsync(client, "+14155550292", addresses, "Heartbeat", [addresses[0]], DateTimeOffset.UtcNow.AddHours(2));
        var node = app.Services.GetRequiredService<CurrentNode>();
        var claimId = await app.ScalarAsync($"""SELECT "Id" FROM "ClaimedBatches" WHERE "OperationId" = {operationId}""");
        var soon = DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeMilliseconds();
        await app.ExecuteSqlAsync($"""UPDATE "ClaimedBatches" SET "NodeId" = {node.Id}, "LeaseUntil" = {soon} WHERE "Id" = {claimId}""");
        var active = app.Services.GetRequiredService<ActiveBatches>();
        var heartbeat = app.Services.GetRequiredService<NodeHeartbeat>();

        using (var running = active.Enter(operationId, 1, long.MaxValue))
        {
            running.Claimed(claimId, System.Diagnostics.Stopwatch.GetTimestamp(), node.SendWindow);
            await heartbeat.BeatAsync(CancellationToken.None);
            Assert.True(await app.ScalarAsync($"""SELECT "LeaseUntil" FROM "ClaimedBatches" WHERE "Id" = {claimId}""") > soon + 10_000);
            Assert.True(running.MaySend);
            Assert.False(running.Lost.IsCancellationRequested);

            // The lease ran out (the node was cut off long enough): it is not renewed, and the batch stops sending.
            await app.ExecuteSqlAsync($"""UPDATE "ClaimedBatches" SET "LeaseUntil" = 0 WHERE "Id" = {claimId}""");
            await heartbeat.BeatAsync(CancellationToken.None);
            Assert.Equal(0, await app.ScalarAsync($"""SELECT "LeaseUntil" FROM "ClaimedBatches" WHERE "Id" = {claimId}"""));
            Assert.True(running.Lost.IsCancellationRequested);
            Assert.False(running.MaySend);
        }
        // Leave nothing in flight for the other tests' sweeps to find.
        Assert.Equal(2, await app.Services.GetRequiredService<DispatchJobs>().SettleInFlightAsync(operationId, CancellationToken.None));
    }

    [Fact]
    public async Task Nodes_lists_this_process_for_an_admin_and_refuses_a_viewer()
    {
        using var client = app.CreateApiClient();
        var node = app.Services.GetRequiredService<CurrentNode>();
        await app.Services.GetRequiredService<NodeHeartbeat>().BeatAsync(CancellationToken.None);

        var body = await client.GetFromJsonAsync<JsonElement>("/v1/Nodes");
        var mine = Assert.Single(body.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("name").GetString() == node.Name);
        var started = mine.GetProperty("startedAt").GetDateTime();
        var seen = mine.GetProperty("lastSeenAt").GetDateTime();
        Assert.True(seen >= started, $"{seen:O} < {started:O}");
        Assert.True(DateTime.UtcNow - seen < TimeSpan.FromMinutes(1), $"last seen {seen:O}");
        Assert.True(mine.GetProperty("activeBatches").GetInt32() >= 0);

        var viewer = await app.Services.GetRequiredService<ApiKeyService>().CreateAsync("Nodes viewer", Roles.Viewer);
        using var viewerClient = app.CreateApiClient(viewer.Sid, viewer.Secret);
        var refused = await viewerClient.GetAsync("/v1/Nodes");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }
}
