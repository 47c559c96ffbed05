using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// A batch in flight: the QUEUED messages of an operation with IDs in [FromId, ToId] when it was claimed are being
/// sent. One row per batch instead of a SENDING status written on each of its messages: the single writer was spending
/// more time flipping 1,000 rows QUEUED → SENDING than on anything but the final write. While the row exists a QUEUED
/// message in its range counts as in flight (recovery and the in-flight sweep settle the range with the provider);
/// <see cref="Remaining"/> is how many of the claimed messages have no outcome written yet (the operation's Sending
/// counter is the sum of them), and the row goes when it reaches zero. The row belongs to the node that claimed it
/// (<see cref="NodeId"/>) for as long as its lease (<see cref="LeaseUntil"/>) is renewed: recovery and the sweep settle
/// only claims whose lease ran out.
/// </summary>
public sealed class ClaimedBatch
{
    public long Id { get; set; }
    public long OperationId { get; set; }
    public long FromId { get; set; }
    public long ToId { get; set; }

    /// <summary>Unix ms; the lower bound when asking the provider what it received after a crash.</summary>
    public long ClaimedAt { get; set; }
    public int Remaining { get; set; }

    /// <summary>A claim of an overlapping range was refused while this one ran: the range is sent again when this one ends.</summary>
    public bool Requeue { get; set; }

    /// <summary>The <see cref="Node"/> whose batch holds the claim.</summary>
    public long NodeId { get; set; }

    /// <summary>Unix ms on the database's clock: the claim is its node's until then; the node renews it while the batch runs.</summary>
    public long LeaseUntil { get; set; }
}

internal sealed class ClaimedBatchConfiguration : IEntityTypeConfiguration<ClaimedBatch>
{
    public void Configure(EntityTypeBuilder<ClaimedBatch> builder)
    {
        builder.ToTable("ClaimedBatches");
        builder.HasIndex(c => new { c.OperationId, c.FromId });
        builder.HasOne<BulkCampaigns.Operations.Operation>().WithMany().HasForeignKey(c => c.OperationId).OnDelete(DeleteBehavior.Cascade);
    }
}
