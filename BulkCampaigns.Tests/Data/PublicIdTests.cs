using BulkCampaigns.Data;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Data;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class PublicIdTests
{
    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(999_999L)]
    [InlineData(long.MaxValue)]
    public void An_id_round_trips_through_its_public_form(long id)
    {
        var text = PublicId.Encode(PublicId.Group, id);

        Assert.StartsWith("grp_", text, StringComparison.Ordinal);
        Assert.True(PublicId.TryDecode(PublicId.Group, text, out var decoded));
        Assert.Equal(id, decoded);
    }

    [Fact]
    public void Consecutive_rows_do_not_show_their_sequence()
    {
        var a = PublicId.Encode(PublicId.Message, 41);
        var b = PublicId.Encode(PublicId.Message, 42);

        Assert.NotEqual(a[..^1], b[..^1]);
        Assert.DoesNotContain("42", b[PublicId.Message.Length..], StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_row_of_two_tables_gets_unrelated_ids()
    {
        var group = PublicId.Encode(PublicId.Group, 1)[PublicId.Group.Length..];
        var sender = PublicId.Encode(PublicId.Sender, 1)[PublicId.Sender.Length..];

        Assert.NotEqual(group, sender);
        Assert.False(PublicId.TryDecode(PublicId.Sender, PublicId.Sender + group, out var other) && other == 1);
    }

    [Theory]
    [InlineData("grp_")]
    [InlineData("cnt_0000000000001")]
    [InlineData("grp_zzzzzzzzzzzzz")]
    [InlineData("grp_!!!!!!!!!!!!!")]
    [InlineData("grp_00000000000001")]
    public void Text_that_is_not_an_id_of_that_kind_is_refused(string text) =>
        Assert.False(PublicId.TryDecode(PublicId.Group, text, out _));
}
