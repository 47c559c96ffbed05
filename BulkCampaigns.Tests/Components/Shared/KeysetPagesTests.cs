using BulkCampaigns.Components.Shared;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Components.Shared;

/// <summary>The stack of page keys every paged list uses, over an in-memory list standing in for a keyset query.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class KeysetPagesTests
{
    private static readonly string[] Names = ["ann", "bob", "cat", "dan", "eve", "fay", "gus"];

    /// <summary>A keyset query over <see cref="Names"/>: the names after a key, in order, and every call it got.</summary>
    private static (KeysetPages<string, string> Pages, List<(string? After, int Take)> Calls) NamesPagedBy(int size)
    {
        var calls = new List<(string? After, int Take)>();
        var pages = KeysetPages.Over<string, string>(size, n => n, (after, take) =>
        {
            calls.Add((after, take));
            return Task.FromResult(Names.Where(n => after is null || string.CompareOrdinal(n, after) > 0).Take(take).ToList());
        });
        return (pages, calls);
    }

    [Fact]
    public async Task The_query_is_asked_for_one_row_more_than_a_page_after_the_last_key_shown()
    {
        var (pages, calls) = NamesPagedBy(3);

        await pages.LoadAsync();
        await pages.NextAsync();

        Assert.Equal([(null, 4), ("cat", 4)], calls);
        Assert.Equal(["dan", "eve", "fay"], pages.Rows);
    }

    [Fact]
    public async Task While_the_next_page_is_read_the_list_still_names_the_page_whose_rows_it_shows()
    {
        var gate = new TaskCompletionSource();
        var pages = KeysetPages.Over<string, string>(3, n => n, async (after, take) =>
        {
            if (after is not null)
            {
                await gate.Task;
            }
            return Names.Where(n => after is null || string.CompareOrdinal(n, after) > 0).Take(take).ToList();
        });
        await pages.LoadAsync();

        var moving = pages.NextAsync();

        Assert.True(pages.Loading);
        Assert.Equal(1, pages.PageNumber);
        Assert.Equal(["ann", "bob", "cat"], pages.Rows);
        gate.SetResult();
        await moving;
        Assert.False(pages.Loading);
        Assert.Equal(2, pages.PageNumber);
        Assert.Equal(["dan", "eve", "fay"], pages.Rows);
    }

    [Fact]
    public async Task Next_walks_every_row_once_and_previous_goes_back_exactly_where_it_was()
    {
        var (pages, _) = NamesPagedBy(3);
        await pages.LoadAsync();
        var seen = new List<string>(pages.Rows);
        while (pages.HasNext)
        {
            await pages.NextAsync();
            seen.AddRange(pages.Rows);
        }

        Assert.Equal(Names, seen);
        Assert.Equal(3, pages.PageNumber);
        Assert.Equal(["gus"], pages.Rows);
        await pages.NextAsync();
        Assert.Equal(3, pages.PageNumber);

        await pages.PreviousAsync();
        Assert.Equal(["dan", "eve", "fay"], pages.Rows);
        Assert.Equal("cat", pages.Current);
        await pages.PreviousAsync();
        Assert.Equal(["ann", "bob", "cat"], pages.Rows);
        Assert.False(pages.HasPrevious);
        await pages.PreviousAsync();
        Assert.Equal(1, pages.PageNumber);
        Assert.Null(pages.Current);
    }

    [Fact]
    public async Task A_page_read_again_starts_after_the_same_key_and_shows_rows_added_since()
    {
        var rows = new List<long> { 10, 20, 30, 40, 50 };
        var pages = KeysetPages.Over<long, long>(2, r => r, (after, take) => Task.FromResult(rows.Where(r => r > after).Order().Take(take).ToList()));
        await pages.LoadAsync();
        await pages.NextAsync();
        Assert.Equal([30, 40], pages.Rows);
        rows.Add(25);

        await pages.LoadAsync();

        Assert.Equal(2, pages.PageNumber);
        Assert.Equal([25, 30], pages.Rows);
        Assert.True(pages.HasNext);
    }

    [Fact]
    public async Task A_page_emptied_by_removals_gives_way_to_the_page_before_it()
    {
        var rows = new List<long> { 10, 20, 30, 40, 50 };
        var pages = KeysetPages.Over<long, long>(2, r => r, (after, take) => Task.FromResult(rows.Where(r => r > after).Take(take).ToList()));
        await pages.LoadAsync();
        await pages.NextAsync();
        await pages.NextAsync();
        Assert.Equal([50], pages.Rows);
        rows.Remove(50);

        await pages.LoadAsync();

        Assert.Equal(2, pages.PageNumber);
        Assert.Equal([30, 40], pages.Rows);
        Assert.False(pages.HasNext);
    }

    [Fact]
    public async Task A_new_page_size_starts_again_at_the_first_page()
    {
        var (pages, calls) = NamesPagedBy(2);
        await pages.LoadAsync();
        await pages.NextAsync();

        await pages.ChangePageSizeAsync(5);

        Assert.Equal(1, pages.PageNumber);
        Assert.Equal((null, 6), calls[^1]);
        Assert.Equal(["ann", "bob", "cat", "dan", "eve"], pages.Rows);
        Assert.True(pages.HasNext);
        await pages.NextAsync();
        Assert.Equal(["fay", "gus"], pages.Rows);
        Assert.False(pages.HasNext);
    }

    [Fact]
    public async Task A_list_that_fills_its_last_page_exactly_has_no_empty_next_page()
    {
        var (pages, _) = NamesPagedBy(7);

        await pages.LoadAsync();

        Assert.Equal(7, pages.RowCount);
        Assert.False(pages.HasNext);
    }

    [Fact]
    public async Task A_page_is_marked_loading_while_it_is_read()
    {
        var gate = new TaskCompletionSource<List<int>>();
        var pages = KeysetPages.Over<int, int>(10, r => r, (_, _) => gate.Task);

        var loading = pages.LoadAsync();
        Assert.True(pages.Loading);
        gate.SetResult([1, 2]);
        await loading;

        Assert.False(pages.Loading);
        Assert.Equal([1, 2], pages.Rows);
    }
}
