using BulkCampaigns.Content;
using BulkCampaigns.Dispatch;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>The A/B split and the winner's pick, without an app: the numbers the engine writes and decides by.</summary>
public sealed class VariantSplitTests
{
    private static VariantPlan Plan(double[] weights, double? share = null) => VariantPlan.Of(new MessageContent
    {
        Variants = weights.Select((w, i) => new ContentVariant { Name = ((char)('A' + i)).ToString(), Weight = w, Content = MessageContent.FromText($"v{i}") }).ToList(),
        Test = share is { } s ? new VariantTest { Share = s, DecideAfter = "PT4H", Metric = "delivered" } : null,
    }.ToJson())!;

    private static List<(long Id, string Address)> Audience(int count, int first = 0) =>
        Enumerable.Range(first, count).Select(i => ((long)(i + 1), Number(i))).ToList();

    [Theory]
    [InlineData(new[] { 50.0, 50.0 })]
    [InlineData(new[] { 70.0, 30.0 })]
    [InlineData(new[] { 50.0, 30.0, 20.0 })]
    [InlineData(new[] { 1.0, 1.0, 1.0, 1.0, 1.0 })]
    [InlineData(new[] { 0.5, 2.0 })]
    [InlineData(new[] { 99.0, 1.0 })]
    public void Weights_are_held_within_one_percent_at_10000_recipients(double[] weights)
    {
        var plan = Plan(weights);
        foreach (var operationId in new long[] { 1, 42, 123_456 })
        {
            var split = plan.AssignAll(operationId, Audience(10_000));
            for (var v = 0; v < weights.Length; v++)
            {
                var expected = weights[v] / weights.Sum();
                Assert.InRange(split.Values.Count(x => x == v) / 10_000.0, expected - 0.01, expected + 0.01);
            }
        }
    }

    [Fact]
    public void The_same_recipient_of_the_same_operation_always_gets_the_same_variant_and_another_operation_splits_anew()
    {
        var audience = Audience(2_000);
        var split = Plan([50, 50]).AssignAll(7, audience);
        // Another plan object, the rows in another order: the same split.
        Assert.Equal(split, Plan([50, 50]).AssignAll(7, audience.AsEnumerable().Reverse().ToList()));
        // Another operation is another draw: not the same recipients in A again.
        var other = Plan([50, 50]).AssignAll(8, audience);
        Assert.InRange(split.Count(p => other[p.Key] == p.Value), 800, 1_200);
    }

    [Theory]
    [InlineData(20.0)]
    [InlineData(5.0)]
    [InlineData(50.0)]
    public void A_test_share_holds_the_rest_for_the_winner_and_splits_the_share_by_the_weights(double share)
    {
        var plan = Plan([50, 50], share);
        var split = plan.AssignAll(99, Audience(10_000));
        var tested = split.Values.Count(v => v is not null);
        Assert.InRange(tested / 10_000.0, share / 100 - 0.01, share / 100 + 0.01);
        Assert.InRange(split.Values.Count(v => v == 0), tested / 2 - 1, tested / 2 + 1);
    }

    [Fact]
    public void The_winner_has_the_best_delivered_rate_and_a_tie_goes_to_the_first()
    {
        var plan = Plan([50, 50, 50], share: 20);
        var (winner, rates) = VariantDecision.Pick(plan, [new(0, 100, 100, 90, 10), new(1, 50, 50, 48, 2), new(2, 100, 100, 96, 4)], null);
        Assert.Equal(1, winner);
        Assert.Equal(new Dictionary<string, double> { ["A"] = 0.9, ["B"] = 0.96, ["C"] = 0.96 }, rates);

        var (tie, _) = VariantDecision.Pick(plan, [new(0, 10, 10, 10, 0), new(1, 10, 10, 10, 0)], null);
        Assert.Equal(0, tie);
        // A variant that got no one in the test has a rate of 0, not a division by zero.
        var (empty, emptyRates) = VariantDecision.Pick(plan, [new(1, 10, 10, 1, 0)], null);
        Assert.Equal(1, empty);
        Assert.Equal(0, emptyRates["A"]);
    }
}
