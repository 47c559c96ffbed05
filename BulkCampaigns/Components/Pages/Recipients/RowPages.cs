namespace BulkCampaigns.Components.Pages.Recipients;

/// <summary>What <see cref="Pager"/> moves through.</summary>
public interface IRowPages
{
    int Number { get; }
    bool HasNext { get; }
    Task FirstAsync();
    Task PreviousAsync();
    Task NextAsync();
}

/// <summary>
/// A list read from the server a page at a time, keyset on a rising key (a row number, an address): only the page shown
/// is held, however many rows there are.
/// </summary>
public sealed class RowPages<T>(int pageSize, Func<T, long> key, Func<long, int, Task<List<T>>> read) : IRowPages
{
    public static readonly RowPages<T> Empty = new(1, _ => 0, (_, _) => Task.FromResult(new List<T>()));

    private readonly List<long> _cursors = [0];

    public IReadOnlyList<T> Rows { get; private set; } = [];
    public bool HasNext { get; private set; }
    public int Number => _cursors.Count;

    /// <summary>Reads the current page again.</summary>
    public async Task LoadAsync()
    {
        var rows = await read(_cursors[^1], pageSize + 1);
        HasNext = rows.Count > pageSize;
        Rows = rows.Count > pageSize ? rows.GetRange(0, pageSize) : rows;
    }

    public Task FirstAsync()
    {
        _cursors.RemoveRange(1, _cursors.Count - 1);
        return LoadAsync();
    }

    public Task PreviousAsync()
    {
        if (_cursors.Count > 1)
        {
            _cursors.RemoveAt(_cursors.Count - 1);
        }
        return LoadAsync();
    }

    public Task NextAsync()
    {
        if (HasNext && Rows.Count > 0)
        {
            _cursors.Add(key(Rows[^1]));
        }
        return LoadAsync();
    }
}
