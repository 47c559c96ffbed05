namespace BulkCampaigns.Components.Pages.Campaigns;

/// <summary>The keys of the pages visited so far, so "previous" goes back exactly where it was.</summary>
public class KeysetCursor<TKey>
{
    private readonly Stack<TKey?> _previous = new();

    /// <summary>The key the current page starts after (null: the first page).</summary>
    public TKey? Current { get; private set; }

    /// <summary>The key the next page starts after, when there is one.</summary>
    public TKey? Next { get; set; }

    public int PageNumber => _previous.Count + 1;

    public void Forward()
    {
        if (Next is null)
        {
            return;
        }
        _previous.Push(Current);
        Current = Next;
    }

    public void Back()
    {
        if (_previous.Count > 0)
        {
            Current = _previous.Pop();
        }
    }

    public void Reset()
    {
        _previous.Clear();
        Current = default;
        Next = default;
    }
}

/// <summary>A cursor over lists keyed by one ID.</summary>
public sealed class KeysetCursor : KeysetCursor<long?>;
