namespace BulkCampaigns.Recipients.Segments;

/// <summary>
/// Every SQL statement of segments, per database: keeping <c>SegmentValues</c> in step with the groups, counting,
/// listing and suggesting values. <see cref="SqliteSegmentStore"/> and <see cref="PostgresSegmentStore"/>; the rows
/// an operation is made from are inserted by each engine store's creation, inside its own transaction.
/// </summary>
public interface ISegmentStore
{
    SegmentSql Sql { get; }

    /// <summary>Makes the groups' folded values match their last import (all groups when empty), rebuilding those that don't.</summary>
    Task EnsureFreshAsync(IReadOnlyCollection<long> groupIds, CancellationToken ct);

    /// <summary>Distinct matching addresses, and how many of them are suppressed.</summary>
    Task<(long Count, long Suppressed)> CountAsync(IReadOnlyCollection<long> groupIds, CompiledFilter filter, CancellationToken ct);

    /// <summary>A page of matching recipients in recipient order after <paramref name="afterKey"/> (an address in two groups shows once per group).</summary>
    Task<List<SegmentMember>> PageAsync(IReadOnlyCollection<long> groupIds, CompiledFilter filter, long afterKey, int take, CancellationToken ct);

    /// <summary>The most common values of a variable (as written, up to <paramref name="take"/>), from a sample of the groups' recipients.</summary>
    Task<List<(string Value, long Count)>> TopValuesAsync(IReadOnlyCollection<long> groupIds, string variable, int take, CancellationToken ct);
}
