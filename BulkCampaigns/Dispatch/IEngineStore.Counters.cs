namespace BulkCampaigns.Dispatch;

public partial interface IEngineStore
{
    /// <summary>
    /// The messages of all operations by status (the operations' counters), in <see cref="Operations.MessageStatus"/>
    /// order. Synchronous: metrics are read by the exporter on its own thread.
    /// </summary>
    long[] SumMessageCounters();

    /// <summary>The CSV rows read by all imports: imported, updated, duplicates, rejected.</summary>
    long[] SumImportRows();

    /// <summary>True while an operation made from the group is scheduled, processing or paused.</summary>
    Task<bool> IsGroupInUseAsync(long groupId, CancellationToken ct);
}
