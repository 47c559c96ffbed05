using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Recipients;

/// <summary>A stored list of recipients (up to <c>Limits:MaxGroupRecipients</c>).</summary>
public sealed class Group
{
    public long Id { get; set; }
    public required string Name { get; set; }

    /// <summary>Kept up to date by imports and deletes, so lists never count a million rows.</summary>
    public long RecipientCount { get; set; }

    /// <summary>The variable names recipients of this group carry, as a JSON array, in first-seen order.</summary>
    public string AttributeKeysJson { get; set; } = "[]";

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? LastImportAt { get; set; }
}

internal sealed class GroupConfiguration : IEntityTypeConfiguration<Group>
{
    public void Configure(EntityTypeBuilder<Group> builder)
    {
        builder.ToTable("Groups");
        builder.Property(g => g.Name).HasMaxLength(200);
        builder.HasIndex(g => g.Name);
    }
}
