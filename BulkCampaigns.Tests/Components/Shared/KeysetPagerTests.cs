using AngleSharp.Dom;
using BulkCampaigns.Components.Shared;
using BulkCampaigns.Tests.Infrastructure;
using Bunit;

namespace BulkCampaigns.Tests.Components.Shared;

/// <summary>The one pager every paged list shows, over 1..23 read a page at a time.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class KeysetPagerTests : MudTestContext
{
    private readonly List<(long After, int Take)> _reads = [];

    private async Task<KeysetPages<long, long>> NumbersAsync(int pageSize)
    {
        var pages = KeysetPages.Over<long, long>(pageSize, n => n, (after, take) =>
        {
            _reads.Add((after, take));
            return Task.FromResult(Enumerable.Range(1, 23).Select(n => (long)n).Where(n => n > after).Take(take).ToList());
        });
        await pages.LoadAsync();
        return pages;
    }

    private static IElement Button(IRenderedComponent<KeysetPager> cut, string name) =>
        cut.FindAll("button").Single(b => b.TextContent.Contains(name, StringComparison.Ordinal));

    private static string Range(IRenderedComponent<KeysetPager> cut) => cut.Find("[data-testid=page-range]").TextContent;

    [Fact]
    public async Task Next_and_previous_move_a_page_and_say_which_rows_are_shown()
    {
        var pages = await NumbersAsync(10);
        var cut = Render<KeysetPager>(p => p.Add(x => x.Pages, pages).Add(x => x.TestId, "numbers-pager"));
        Assert.Equal("Page 1 · showing 1–10", Range(cut));

        Button(cut, "Next").Click();
        cut.WaitForAssertion(() => Assert.Equal("Page 2 · showing 11–20", Range(cut)));
        Assert.Equal(11, pages.Rows[0]);

        Button(cut, "Next").Click();
        cut.WaitForAssertion(() => Assert.Equal("Page 3 · showing 21–23", Range(cut)));

        Button(cut, "Previous").Click();
        cut.WaitForAssertion(() => Assert.Equal("Page 2 · showing 11–20", Range(cut)));
        Assert.Equal(Enumerable.Range(11, 10).Select(n => (long)n), pages.Rows);
        Assert.Single(cut.FindAll("nav[data-testid=numbers-pager]"));
    }

    [Fact]
    public async Task Previous_is_disabled_on_the_first_page_and_next_on_the_last()
    {
        var pages = await NumbersAsync(10);
        var cut = Render<KeysetPager>(p => p.Add(x => x.Pages, pages));

        Assert.True(Button(cut, "Previous").HasAttribute("disabled"));
        Assert.False(Button(cut, "Next").HasAttribute("disabled"));

        Button(cut, "Next").Click();
        cut.WaitForAssertion(() => Assert.False(Button(cut, "Previous").HasAttribute("disabled")));
        Button(cut, "Next").Click();
        cut.WaitForAssertion(() => Assert.True(Button(cut, "Next").HasAttribute("disabled")));
        Assert.False(Button(cut, "Previous").HasAttribute("disabled"));
        Assert.Equal(3, pages.PageNumber);
    }

    [Fact]
    public async Task Choosing_a_page_size_goes_back_to_the_first_page_at_that_size()
    {
        var pages = await NumbersAsync(10);
        var changed = 0;
        var cut = Render<KeysetPager>(p => p.Add(x => x.Pages, pages).Add(x => x.Changed, () => changed++));
        Button(cut, "Next").Click();
        cut.WaitForAssertion(() => Assert.Equal(2, pages.PageNumber));

        cut.Find("select[data-testid=page-size]").Change("25");

        cut.WaitForAssertion(() => Assert.Equal("Page 1 · showing 1–23", Range(cut)));
        Assert.Equal((0, 26), _reads[^1]);
        Assert.Equal(25, pages.PageSize);
        Assert.True(Button(cut, "Previous").HasAttribute("disabled"));
        Assert.True(Button(cut, "Next").HasAttribute("disabled"));
        Assert.True(changed >= 2);
    }

    [Fact]
    public async Task While_a_page_is_read_the_pager_says_so_and_cannot_be_clicked_again()
    {
        var gate = new TaskCompletionSource<List<long>>();
        var first = true;
        var pages = KeysetPages.Over<long, long>(2, n => n, (after, take) =>
            first ? Task.FromResult(new List<long> { 1, 2, 3 }) : gate.Task);
        await pages.LoadAsync();
        first = false;
        var cut = Render<KeysetPager>(p => p.Add(x => x.Pages, pages));

        Button(cut, "Next").Click();

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=page-loading]")));
        Assert.True(Button(cut, "Next").HasAttribute("disabled"));
        Assert.True(Button(cut, "Previous").HasAttribute("disabled"));
        gate.SetResult([3]);
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=page-loading]")));
        Assert.Equal("Page 2 · showing 3–3", Range(cut));
    }

    [Fact]
    public async Task The_pager_is_a_labelled_navigation_with_a_labelled_page_size_choice()
    {
        var pages = await NumbersAsync(10);
        var cut = Render<KeysetPager>(p => p.Add(x => x.Pages, pages).Add(x => x.Label, "Recipient pages"));

        Assert.Equal("Recipient pages", cut.Find("nav").GetAttribute("aria-label"));
        Assert.Contains("Rows per page", cut.Find("label:has(select)").TextContent, StringComparison.Ordinal);
        Assert.Equal(["10", "25", "50", "100"], cut.FindAll("select option").Select(o => o.GetAttribute("value")));
    }
}
