using AngleSharp.Dom;
using BulkCampaigns.Components.Pages.Campaigns;
using BulkCampaigns.Components.Shared;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;

namespace BulkCampaigns.Tests.Components;

/// <summary>The dashboard's A/B table: each variant's figures and rates side by side, and the test's decision.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class VariantComparisonTests : MudTestContext
{
    private static readonly DateTimeOffset DecidedAt = new(2026, 12, 1, 9, 30, 0, TimeSpan.Zero);

    /// <summary>A 70/30 test of 2,000 messages: "Short" delivered 93 %, "Long" 97 %, the decision by the delivered rate.</summary>
    private static readonly IReadOnlyList<VariantView> Tested =
    [
        new("Short", 70, Total: 1400, Sent: 1386, Delivered: 1302, Failed: 14, Clicked: 168),
        new("Long", 30, Total: 600, Sent: 591, Delivered: 582, Failed: 9, Clicked: 57),
    ];

    private IRenderedComponent<VariantComparison> RenderComparison(IReadOnlyList<VariantView> variants, VariantDecision? winner = null, DateTimeOffset? decideAt = null, bool waiting = false) =>
        Render<VariantComparison>(p => p
            .Add(c => c.Variants, variants)
            .Add(c => c.Winner, winner)
            .Add(c => c.DecideAt, decideAt)
            .Add(c => c.Waiting, waiting));

    private static IElement Row(IRenderedComponent<VariantComparison> cut, string variant) =>
        cut.FindAll("[data-testid=variant-row]").Single(r => r.GetAttribute("data-variant") == variant);

    private static string Cell(IElement row, string testId) => row.QuerySelector($"[data-testid={testId}]")!.TextContent.Trim();

    /// <summary>A row's figures in the table's order: share, messages, sent, delivered, failed, delivery rate, failure rate, clicked.</summary>
    private static string[] Cells(IElement row) =>
        [.. new[] { "share", "total", "sent", "delivered", "failed", "delivery-rate", "failure-rate", "clicked" }.Select(c => Cell(row, "variant-" + c))];

    [Fact]
    public void Each_variant_shows_its_share_counts_and_rates_over_its_own_messages()
    {
        var cut = RenderComparison(Tested);

        Assert.Equal(["Short", "Long"], cut.FindAll("[data-testid=variant-row]").Select(r => r.GetAttribute("data-variant")));
        Assert.Equal(["70%", "1,400", "1,386", "1,302", "14", "93.0%", "1.0%", "168"], Cells(Row(cut, "Short")));
        Assert.Equal(["30%", "600", "591", "582", "9", "97.0%", "1.5%", "57"], Cells(Row(cut, "Long")));

        // No decision asked for, none taken: no winner, no column of decided rates.
        Assert.Empty(cut.FindAll("[data-testid=variant-winner]"));
        Assert.Empty(cut.FindAll("[data-testid=variant-decide-at]"));
        Assert.Empty(cut.FindAll("[data-testid=variant-decided-rate]"));
        Assert.Empty(cut.FindAll("[data-testid=variant-row] td:first-child svg"));
        Assert.DoesNotContain(cut.FindAll("th"), th => th.TextContent.Trim() == "Decided on");
    }

    [Fact]
    public void The_winner_is_named_marked_in_its_row_only_and_the_rates_it_was_decided_on_are_shown()
    {
        var cut = RenderComparison(Tested, new VariantDecision("Long", DecidedAt, new Dictionary<string, double> { ["Short"] = 0.93, ["Long"] = 0.97 }));

        Assert.Equal("Winner: Long", cut.Find("[data-testid=variant-winner]").TextContent.Trim());
        Assert.Contains($"picked {UserClock.Format(DecidedAt, NodaTime.DateTimeZone.Utc)} and sent to the rest", cut.Find("[data-testid=variant-comparison]").TextContent, StringComparison.Ordinal);
        Assert.Contains(cut.FindAll("th"), th => th.TextContent.Trim() == "Decided on");
        Assert.Equal("97.0%", Cell(Row(cut, "Long"), "variant-decided-rate"));
        Assert.Equal("93.0%", Cell(Row(cut, "Short"), "variant-decided-rate"));
        // The trophy beside the winner's name, and not beside the other's.
        Assert.NotNull(Row(cut, "Long").QuerySelector("td:first-child svg"));
        Assert.Null(Row(cut, "Short").QuerySelector("td:first-child svg"));
        Assert.Empty(cut.FindAll("[data-testid=variant-decide-at]"));
    }

    [Fact]
    public void Before_the_decision_its_time_is_said_and_a_variant_without_messages_or_tracked_links_shows_dashes()
    {
        var decideAt = DecidedAt.AddHours(4);
        IReadOnlyList<VariantView> variants =
        [
            new("A", 1, Total: 50, Sent: 50, Delivered: 48, Failed: 0, Clicked: null),
            new("B", 1, Total: 50, Sent: 49, Delivered: 45, Failed: 1, Clicked: null),
            new("C", 2, Total: 0, Sent: 0, Delivered: 0, Failed: 0, Clicked: null),
        ];

        var sending = RenderComparison(variants, decideAt: decideAt);

        var when = UserClock.Format(decideAt, NodaTime.DateTimeZone.Utc);
        Assert.Equal($"The winner is picked {when} and sent to the rest.", sending.Find("[data-testid=variant-decide-at]").TextContent.Trim());
        Assert.Empty(sending.FindAll("[data-testid=variant-winner]"));
        Assert.Equal(["25%", "25%", "50%"], sending.FindAll("[data-testid=variant-share]").Select(e => e.TextContent.Trim()));
        Assert.Equal(["96.0%", "90.0%", "–"], sending.FindAll("[data-testid=variant-delivery-rate]").Select(e => e.TextContent.Trim()));
        Assert.Equal(["0.0%", "2.0%", "–"], sending.FindAll("[data-testid=variant-failure-rate]").Select(e => e.TextContent.Trim()));
        Assert.All(sending.FindAll("[data-testid=variant-clicked]"), c =>
        {
            Assert.Equal("–", c.TextContent.Trim());
            Assert.Equal("Needs link tracking", c.GetAttribute("title"));
        });

        var waiting = RenderComparison(variants, decideAt: decideAt, waiting: true);
        Assert.Equal($"The test is done; the winner is picked {when} and sent to the rest.", waiting.Find("[data-testid=variant-decide-at]").TextContent.Trim());
    }
}
