using BulkCampaigns.Recipients;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Dispatch;

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

/// <summary>A group is in use while an operation made from it is scheduled, processing or paused.</summary>
public sealed class OperationGroupUsage(BulkCampaigns.Data.DatabaseConnection database) : IGroupUsage
{
    public async Task<bool> IsInUseAsync(long groupId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT EXISTS (SELECT 1 FROM OperationGroups og JOIN Operations o ON o.Id = og.OperationId
                           WHERE og.GroupId = $g AND o.Status IN (0, 1, 2))
            """;
        command.Parameters.AddWithValue("$g", groupId);
        return (long)(await command.ExecuteScalarAsync(ct))! == 1;
    }
}
