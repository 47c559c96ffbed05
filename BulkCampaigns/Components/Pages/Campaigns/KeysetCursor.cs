namespace BulkCampaigns.Components.Pages.Campaigns;

/// <summary>The keys of the pages visited so far, so "previous" goes back exactly where it was.</summary>
public sealed class KeysetCursor
{
    private readonly Stack<long?> _previous = new();

    /// <summary>The key the current page starts after (null: the first page).</summary>
    public long? Current { get; private set; }

    /// <summary>The key the next page starts after, when there is one.</summary>
    public long? Next { get; set; }

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
        Current = null;
        Next = null;
    }
}
