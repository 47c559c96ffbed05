using System.Diagnostics;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// The batch jobs of this process running now: their message ID ranges and, once claimed, their claim. The node's
/// heartbeat renews the leases of the claims listed here (and no others), and tells a batch whose lease it could not
/// renew to stop (<see cref="Entry.Lost"/>); a batch sends only while its lease was confirmed recently (<see cref="Entry.MaySend"/>).
/// </summary>
public sealed class ActiveBatches
{
    private readonly List<Entry> _active = [];

    public Entry Enter(long operationId, long fromId, long toId)
    {
        var entry = new Entry(this, operationId, fromId, toId);
        lock (_active)
        {
            _active.Add(entry);
        }
        return entry;
    }

    /// <summary>How many batches are running now (a metric).</summary>
    public int Count
    {
        get
        {
            lock (_active)
            {
                return _active.Count;
            }
        }
    }

    public bool Covers(long operationId, long messageId)
    {
        lock (_active)
        {
            return _active.Exists(a => a.Operation == operationId && messageId >= a.From && messageId <= a.To);
        }
    }

    /// <summary>The claims of the batches running now, to renew.</summary>
    public long[] ClaimIds()
    {
        lock (_active)
        {
            return _active.Where(a => a.ClaimId != 0).Select(a => a.ClaimId).ToArray();
        }
    }

    /// <summary>
    /// A renewal asked at <paramref name="askedAt"/> (a <see cref="Stopwatch"/> timestamp) for <paramref name="asked"/>
    /// came back with <paramref name="renewed"/>: those may send for <paramref name="window"/> from then, the others lost
    /// their claim (its lease ran out, another node settled it) and stop. A batch that has handed all its messages to the
    /// provider deletes its claim with its last results, so its claim missing is no loss. Returns the batches lost.
    /// </summary>
    public int Renewed(long askedAt, IReadOnlyCollection<long> asked, IReadOnlySet<long> renewed, TimeSpan window)
    {
        List<Entry> lost = [];
        lock (_active)
        {
            foreach (var entry in _active.Where(a => a.ClaimId != 0 && asked.Contains(a.ClaimId)))
            {
                if (renewed.Contains(entry.ClaimId))
                {
                    entry.ExtendTo(askedAt + (long)(window.TotalSeconds * Stopwatch.Frequency));
                }
                else if (!entry.IsFinishing)
                {
                    lost.Add(entry);
                }
            }
        }
        foreach (var entry in lost)
        {
            entry.Lose();
        }
        return lost.Count;
    }

    private void Remove(Entry entry)
    {
        lock (_active)
        {
            _active.Remove(entry);
        }
    }

    /// <summary>One running batch.</summary>
    public sealed class Entry : IDisposable
    {
        private readonly ActiveBatches _owner;
        private readonly CancellationTokenSource _lost = new();
        private long _sendUntil;
        private volatile bool _finishing;

        internal Entry(ActiveBatches owner, long operation, long from, long to)
        {
            _owner = owner;
            Operation = operation;
            From = from;
            To = to;
        }

        public long Operation { get; }
        public long From { get; }
        public long To { get; }
        public long ClaimId { get; private set; }

        /// <summary>Cancelled when the heartbeat found the claim's lease gone: the batch must stop sending at once.</summary>
        public CancellationToken Lost => _lost.Token;

        /// <summary>True while the claim's lease was confirmed recently enough to hand messages to the provider.</summary>
        public bool MaySend => ClaimId == 0 || (!_lost.IsCancellationRequested && Stopwatch.GetTimestamp() < Interlocked.Read(ref _sendUntil));

        /// <summary>The batch claimed <paramref name="claimId"/>, asked at <paramref name="askedAt"/>; its lease lets it send for <paramref name="window"/>.</summary>
        public void Claimed(long claimId, long askedAt, TimeSpan window)
        {
            ExtendTo(askedAt + (long)(window.TotalSeconds * Stopwatch.Frequency));
            ClaimId = claimId;
        }

        /// <summary>
        /// The batch sends nothing more and writes its last results, which delete its claim: a renewal that finds the
        /// claim gone from then on is the batch's own doing, not a lost lease.
        /// </summary>
        public void Finishing() => _finishing = true;

        internal bool IsFinishing => _finishing;

        internal void ExtendTo(long until)
        {
            long seen;
            do
            {
                seen = Interlocked.Read(ref _sendUntil);
                if (seen >= until)
                {
                    return;
                }
            }
            while (Interlocked.CompareExchange(ref _sendUntil, until, seen) != seen);
        }

        internal void Lose()
        {
            try
            {
                _lost.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The batch ended meanwhile.
            }
        }

        public void Dispose()
        {
            _owner.Remove(this);
            _lost.Dispose();
        }
    }
}
