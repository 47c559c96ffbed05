using BulkCampaigns.Suppressions;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Suppressions;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class SuppressionSummaryTests
{
    [Theory]
    [InlineData(1, "1 added, 0 already suppressed, 1 row rejected.")]
    [InlineData(2, "1 added, 0 already suppressed, 2 rows rejected.")]
    public void The_summary_of_a_suppression_file_says_row_for_one_and_rows_for_more(long rejected, string expected)
    {
        var result = new SuppressionImportResult(null, 1 + rejected, 1, 0, rejected, []);

        Assert.Equal(expected, result.Summary);
    }
}
