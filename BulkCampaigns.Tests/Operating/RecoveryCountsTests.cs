using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Tests.Dispatch;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Operating;

/// <summary>
/// After a SIGKILL, messages the provider had received but the app had not yet written as sent are settled as SENT.
/// They were attempted once: the message and the operation's stats.attempts must say so (they said 0).
/// </summary>
public sealed class RecoveryCountsTests(ExactSimulatorApp app) : IClassFixture<ExactSimulatorApp>
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Start_up_recovery_counts_the_attempt_of_every_message_it_finds_sent(bool claimedRange)
    {
        var shift = claimedRange ? 50 : 0; // each form its own recipients and sender, in the one app
        using var client = app.CreateApiClient();
        string[] addresses = [Number(8200 + shift), Number(8201 + shift), Number(8202 + shift), Number(8203 + shift)];
        var (id, operationId) = await app.StrandedOperationAsync(client, claimedRange ? "+14155550277" : "+14155550177", addresses, "Recovered", [addresses[0], addresses[1]], DateTimeOffset.UtcNow.AddMinutes(-9), claimedRange);

        await new DispatchRecovery(app.Services, NullLogger<DispatchRecovery>.Instance).StartAsync(CancellationToken.None);

        await AssertEachAttemptedOnceAsync(client, id, operationId, addresses.Length);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_in_flight_sweep_counts_the_attempt_of_every_message_it_finds_sent(bool claimedRange)
    {
        var shift = claimedRange ? 50 : 0; // each form its own recipients and sender, in the one app
        using var client = app.CreateApiClient();
        string[] addresses = [Number(8300 + shift), Number(8301 + shift), Number(8302 + shift)];
        var (id, operationId) = await app.StrandedOperationAsync(client, claimedRange ? "+14155550276" : "+14155550176", addresses, "Swept and counted", [addresses[0], addresses[2]], DateTimeOffset.UtcNow.AddMinutes(-9), claimedRange);

        Assert.Equal(3, await app.Services.GetRequiredService<InFlightSweeper>().SweepAsync(CancellationToken.None));

        await AssertEachAttemptedOnceAsync(client, id, operationId, addresses.Length);
    }

    private async Task AssertEachAttemptedOnceAsync(HttpClient client, string id, long operationId, int count)
    {
        var op = await WaitForStatusAsync(client, id, "COMPLETED");
        AssertStatsAddUp(op);
        Assert.Equal(count, Stat(op, "sent") + Stat(op, "delivered"));
        Assert.Equal(count, await app.ScalarAsync($"""SELECT COUNT(*) FROM "Messages" WHERE "OperationId" = {operationId} AND "Attempts" = 1"""));
        Assert.Equal(count, Stat(op, "attempts"));
    }
}
