using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Dispatch;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class SenderPacerTests
{
    [Fact]
    public async Task An_operation_that_has_stopped_sending_loses_its_own_pace_when_another_starts_and_a_sending_one_keeps_it()
    {
        var pacer = new SenderPacer(idleOperationDropped: TimeSpan.FromMilliseconds(200));
        Assert.True(await pacer.WaitTurnAsync(senderId: 1, senderMps: 1000, operationId: 10, operationMps: 100, segments: 1, CancellationToken.None));
        Assert.True(pacer.IsPacing(10));

        await Task.Delay(400);
        Assert.True(await pacer.WaitTurnAsync(1, 1000, operationId: 11, operationMps: 100, segments: 1, CancellationToken.None));
        Assert.True(await pacer.WaitTurnAsync(1, 1000, operationId: 11, operationMps: 100, segments: 1, CancellationToken.None));
        Assert.True(await pacer.WaitTurnAsync(1, 1000, operationId: 12, operationMps: 100, segments: 1, CancellationToken.None));

        Assert.False(pacer.IsPacing(10)); // idle longer than the limit: dropped
        Assert.True(pacer.IsPacing(11)); // sent just now: kept
        Assert.True(pacer.IsPacing(12));
    }

    [Fact]
    public async Task An_operation_at_or_above_its_sender_rate_keeps_no_pace_of_its_own()
    {
        var pacer = new SenderPacer();
        Assert.True(await pacer.WaitTurnAsync(1, 50, operationId: 20, operationMps: 50, segments: 1, CancellationToken.None));
        Assert.True(await pacer.WaitTurnAsync(1, 50, operationId: 21, operationMps: null, segments: 1, CancellationToken.None));

        Assert.False(pacer.IsPacing(20));
        Assert.False(pacer.IsPacing(21));
    }
}
