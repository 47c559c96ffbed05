namespace BulkCampaigns.Recipients;

/// <summary>
/// The addresses an import has seen, each with the first row it came on: an open-addressing table of two flat arrays
/// (12 bytes a slot, at most 3/4 full), where a <see cref="Dictionary{TKey, TValue}"/> of long to long took 28 bytes an
/// entry in one array as large as the file's rows and made that the largest allocation of a 1M-row import.
/// </summary>
/// <remarks>
/// Keys are E.164 numbers as integers, never 0, so 0 marks an empty slot. Rows are numbers of data rows of one upload
/// (at most <see cref="RecipientOptions.MaxUploadBytes"/> bytes), far below <see cref="int.MaxValue"/>.
/// </remarks>
public sealed class AddressTable
{
    private long[] _keys;
    private int[] _rows;
    private int _limit;

    /// <param name="expected">How many addresses are expected: the table holds that many before it grows.</param>
    public AddressTable(long expected)
    {
        var capacity = (int)Math.Clamp(expected + expected / 3 + 1, 16, Array.MaxLength);
        _keys = new long[capacity];
        _rows = new int[capacity];
        _limit = (int)(capacity * 3L / 4);
    }

    /// <summary>How many distinct addresses were added.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// The first row of <paramref name="key"/> when it was seen before; otherwise adds it with <paramref name="row"/> and
    /// answers -1.
    /// </summary>
    public long FirstRowOrAdd(long key, long row)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(key);
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(row, int.MaxValue);
        var slot = Slot(_keys, key);
        if (_keys[slot] == key)
        {
            return _rows[slot];
        }
        if (Count >= _limit)
        {
            Grow();
            slot = Slot(_keys, key);
        }
        _keys[slot] = key;
        _rows[slot] = (int)row;
        Count++;
        return -1;
    }

    /// <summary>The slot holding <paramref name="key"/>, or the empty one where it goes (linear probing).</summary>
    private static int Slot(long[] keys, long key)
    {
        // Fibonacci hashing spreads neighbouring numbers; the high half of hash × length maps it onto the table without a division.
        var hash = (ulong)key * 0x9E3779B97F4A7C15UL;
        var slot = (int)Math.BigMul(hash, (ulong)keys.Length, out _);
        while (keys[slot] != 0 && keys[slot] != key)
        {
            slot = slot + 1 == keys.Length ? 0 : slot + 1;
        }
        return slot;
    }

    private void Grow()
    {
        var capacity = (int)Math.Min((long)_keys.Length * 2, Array.MaxLength);
        var keys = new long[capacity];
        var rows = new int[capacity];
        for (var i = 0; i < _keys.Length; i++)
        {
            if (_keys[i] != 0)
            {
                var slot = Slot(keys, _keys[i]);
                keys[slot] = _keys[i];
                rows[slot] = _rows[i];
            }
        }
        _keys = keys;
        _rows = rows;
        _limit = (int)(capacity * 3L / 4);
    }
}
