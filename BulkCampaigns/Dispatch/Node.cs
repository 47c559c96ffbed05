using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// One app process sharing the database (a node), from its start until it stops renewing <see cref="LastSeenAt"/>.
/// A process that starts again is a new row: the batches a dead process claimed keep its row's ID as their owner, and
/// its leases run out (or are ended at once when a node of the same name registers, see <see cref="NodeHeartbeat"/>).
/// Times are Unix ms on the database's clock (PostgreSQL's; on SQLite, the one machine's).
/// </summary>
public sealed class Node
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public long StartedAt { get; set; }
    public long LastSeenAt { get; set; }
}

internal sealed class NodeConfiguration : IEntityTypeConfiguration<Node>
{
    public void Configure(EntityTypeBuilder<Node> builder)
    {
        builder.ToTable("Nodes");
        builder.Property(n => n.Name).HasMaxLength(200);
        builder.HasIndex(n => n.Name);
    }
}
