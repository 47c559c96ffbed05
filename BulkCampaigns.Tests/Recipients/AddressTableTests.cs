using BulkCampaigns.Recipients;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Recipients;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class AddressTableTests
{
    [Fact]
    public void Every_address_answers_the_first_row_it_came_on_as_a_dictionary_would_even_past_the_expected_size()
    {
        var random = new Random(5);
        var table = new AddressTable(expected: 100); // grows several times
        var reference = new Dictionary<long, long>();
        for (long row = 1; row <= 50_000; row++)
        {
            // Neighbouring numbers, as a file sorted by number holds, and repeats of earlier ones.
            var key = random.Next(4) == 0 ? 12015550000 + random.Next(0, 5_000) : 14155550000 + row * 7;
            var first = table.FirstRowOrAdd(key, row);
            if (reference.TryGetValue(key, out var expected))
            {
                Assert.Equal(expected, first);
            }
            else
            {
                Assert.Equal(-1, first);
                reference[key] = row;
            }
        }
        Assert.Equal(reference.Count, table.Count);
    }

    [Fact]
    public void A_repeated_address_keeps_its_first_row_not_the_latest()
    {
        var table = new AddressTable(expected: 4);
        Assert.Equal(-1, table.FirstRowOrAdd(12015550101, 1));
        Assert.Equal(-1, table.FirstRowOrAdd(12015550102, 2));
        Assert.Equal(1, table.FirstRowOrAdd(12015550101, 3));
        Assert.Equal(1, table.FirstRowOrAdd(12015550101, 5));
        Assert.Equal(2, table.Count);
    }
}
