using BulkCampaigns.Dispatch;
using BulkCampaigns.Recipients;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Operations;

/// <summary>Which stored groups an operation was made from, so a group in use by an unfinished one is not deleted.</summary>
public sealed class OperationGroup
{
    public long OperationId { get; set; }
    public long GroupId { get; set; }
}

internal sealed class OperationGroupConfiguration : IEntityTypeConfiguration<OperationGroup>
{
    public void Configure(EntityTypeBuilder<OperationGroup> builder)
    {
        builder.ToTable("OperationGroups");
        builder.HasKey(g => new { g.OperationId, g.GroupId });
        builder.HasIndex(g => g.GroupId);
        builder.HasOne<Operation>().WithMany().HasForeignKey(g => g.OperationId).OnDelete(DeleteBehavior.Cascade);
        // Messages are copied when the operation is made; the link only guards deletes and may outlive the group.
        builder.HasOne<Group>().WithMany().HasForeignKey(g => g.GroupId).OnDelete(DeleteBehavior.Cascade);
    }
}
