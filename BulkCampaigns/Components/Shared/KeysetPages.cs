namespace BulkCampaigns.Components.Shared;

/// <summary>What <see cref="KeysetPager"/> shows and moves: where the page is, and the steps a user can take.</summary>
public interface IKeysetPages
{
    int PageNumber { get; }
    int PageSize { get; }
    int RowCount { get; }
    bool HasPrevious { get; }
    bool HasNext { get; }
    bool Loading { get; }
    Task PreviousAsync();
    Task NextAsync();
    /// <summary>A new page size starts again at the first page: the keys of the pages seen were cut at the old size.</summary>
    Task ChangePageSizeAsync(int pageSize);
}

/// <summary>One page read from the server: its rows, and the key to ask for the next page with when there is one.</summary>
public readonly record struct KeysetPage<TKey, TRow>(IReadOnlyList<TRow> Rows, bool HasNext, TKey? Next);

/// <summary>
/// A list read from the server a page at a time by keyset: only the page shown is held, however many rows there are,
/// and a deep page costs what the first does. It keeps the stack of keys the pages seen so far started after, so
/// "previous" goes back exactly where it was even while rows are added. The default key (0, null) means "from the start".
/// </summary>
public sealed class KeysetPages<TKey, TRow> : IKeysetPages
{
    private readonly Func<TKey?, int, Task<KeysetPage<TKey, TRow>>> _read;
    private readonly Stack<TKey?> _previous = new();
    private TKey? _current;
    private TKey? _next;

    /// <param name="read">Reads the page of <c>pageSize</c> rows after a key (default: the first page).</param>
    public KeysetPages(int pageSize, Func<TKey?, int, Task<KeysetPage<TKey, TRow>>> read)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        PageSize = pageSize;
        _read = read;
    }

    public IReadOnlyList<TRow> Rows { get; private set; } = [];
    public int PageSize { get; private set; }
    public int PageNumber => _previous.Count + 1;
    public int RowCount => Rows.Count;
    public bool HasPrevious => _previous.Count > 0;
    public bool HasNext { get; private set; }
    public bool Loading { get; private set; }

    /// <summary>The key the page shown starts after (default: the first page).</summary>
    public TKey? Current => _current;

    /// <summary>
    /// Reads the page shown again (rows may have been added, changed or removed); a page left empty by removals gives
    /// way to the one before it, so deleting the last rows of a list never leaves an empty page with rows behind it.
    /// </summary>
    public async Task LoadAsync()
    {
        Loading = true;
        try
        {
            var page = await _read(_current, PageSize);
            while (page.Rows.Count == 0 && _previous.Count > 0)
            {
                _current = _previous.Pop();
                page = await _read(_current, PageSize);
            }
            Show(page);
        }
        finally
        {
            Loading = false;
        }
    }

    private void Show(KeysetPage<TKey, TRow> page)
    {
        Rows = page.Rows;
        HasNext = page.HasNext;
        _next = page.Next;
    }

    /// <summary>Back to the first page, read again.</summary>
    public Task FirstAsync()
    {
        _previous.Clear();
        _current = default;
        return LoadAsync();
    }

    /// <summary>
    /// The next page. Where the list is (its page number, the rows) changes only once the page is read, so the pager
    /// never names a page while the rows of the one before are still shown.
    /// </summary>
    public async Task NextAsync()
    {
        if (!HasNext)
        {
            return;
        }
        Loading = true;
        try
        {
            var page = await _read(_next, PageSize);
            if (page.Rows.Count == 0)
            {
                await LoadAsync(); // its rows went meanwhile: this page again, read anew
                return;
            }
            _previous.Push(_current);
            _current = _next;
            Show(page);
        }
        finally
        {
            Loading = false;
        }
    }

    public async Task PreviousAsync()
    {
        if (_previous.Count == 0)
        {
            return;
        }
        Loading = true;
        try
        {
            var page = await _read(_previous.Peek(), PageSize);
            _current = _previous.Pop();
            Show(page);
        }
        finally
        {
            Loading = false;
        }
        if (RowCount == 0 && _previous.Count > 0)
        {
            await LoadAsync(); // a page left empty by removals gives way to the one before it
        }
    }

    public Task ChangePageSizeAsync(int pageSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        PageSize = pageSize;
        return FirstAsync();
    }
}

/// <summary>The usual ways to start a <see cref="KeysetPages{TKey, TRow}"/>.</summary>
public static class KeysetPages
{
    /// <summary>
    /// Pages over a query that takes the last key and a row count and returns rows in key order: it is asked for one
    /// row more than a page, and that row only tells there is a next page.
    /// </summary>
    public static KeysetPages<TKey, TRow> Over<TKey, TRow>(int pageSize, Func<TRow, TKey> keyOf, Func<TKey?, int, Task<List<TRow>>> readAfter) =>
        new(pageSize, async (after, size) =>
        {
            var rows = await readAfter(after, size + 1);
            var hasNext = rows.Count > size;
            var shown = hasNext ? rows.GetRange(0, size) : rows;
            return new KeysetPage<TKey, TRow>(shown, hasNext, hasNext ? keyOf(shown[^1]) : default);
        });

    /// <summary>A list with nothing in it (before there is anything to read).</summary>
    public static KeysetPages<TKey, TRow> Empty<TKey, TRow>(int pageSize = 1) =>
        new(pageSize, (_, _) => Task.FromResult(new KeysetPage<TKey, TRow>([], false, default)));
}
