using BulkCampaigns.Components.Shared;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;

namespace BulkCampaigns.Tests.Components;

public sealed class ComingSoonTests : MudTestContext
{
    [Fact]
    public void It_names_the_feature_that_is_not_built_yet()
    {
        var cut = Render<ComingSoon>(p => p.Add(c => c.Feature, "Campaigns"));

        Assert.Contains("Campaigns is coming soon", cut.Markup, StringComparison.Ordinal);
    }
}
