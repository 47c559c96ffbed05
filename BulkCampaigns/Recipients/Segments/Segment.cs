using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Recipients.Segments;

/// <summary>A saved audience: some groups (none: every group) filtered by what is known of each recipient.</summary>
public sealed class Segment
{
    public long Id { get; set; }
    public required string Name { get; set; }

    /// <summary>The groups' row ids as a JSON array; empty means every group.</summary>
    public string GroupIdsJson { get; set; } = "[]";

    /// <summary>The filter as the contract's JSON, as it was given (values unfolded).</summary>
    public string FilterJson { get; set; } = "{\"all\":[]}";

    /// <summary>The count when last evaluated (saved, listed or opened), with the suppressed ones apart.</summary>
    public long RecipientCount { get; set; }
    public long Suppressed { get; set; }
    public DateTimeOffset? CountedAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// PostgreSQL only: one recipient as segments read it, its variables with every value case-folded (<c>jsonb</c>) beside
/// its group and address, derived from <see cref="Recipient"/> per group by each import. SQLite keeps the folded
/// variables on the recipient's own row instead (<see cref="Recipient.Folded"/>; see Recipients/README.md).
/// </summary>
public sealed class SegmentValue
{
    public long RecipientId { get; set; }
    public long GroupId { get; set; }
    public required string Address { get; set; }
    public required byte[] Folded { get; set; }
}

/// <summary>Which import of a group its folded variables were made from (the group's <c>LastImportAt</c> then).</summary>
public sealed class SegmentStamp
{
    public long GroupId { get; set; }
    public string? Stamp { get; set; }
}

/// <summary>Which segment an operation was made from, so a segment in use by an unfinished one is not deleted.</summary>
public sealed class OperationSegment
{
    public long OperationId { get; set; }
    public long SegmentId { get; set; }
}

internal sealed class SegmentConfiguration : IEntityTypeConfiguration<Segment>
{
    public void Configure(EntityTypeBuilder<Segment> builder)
    {
        builder.ToTable("Segments");
        builder.Property(s => s.Name).HasMaxLength(200);
        builder.Property(s => s.CountedAt).HasConversion(UnixMs.NullableConverter);
        builder.Property(s => s.CreatedAt).HasConversion(UnixMs.Converter);
        builder.Property(s => s.UpdatedAt).HasConversion(UnixMs.Converter);
    }
}

internal sealed class SegmentValueConfiguration : IEntityTypeConfiguration<SegmentValue>
{
    public void Configure(EntityTypeBuilder<SegmentValue> builder)
    {
        builder.ToTable("SegmentValues");
        // The recipient's own row id: a lookup from a value to its recipient is a rowid read.
        builder.HasKey(v => v.RecipientId);
        builder.Property(v => v.RecipientId).ValueGeneratedNever();
        builder.HasIndex(v => v.GroupId);
        builder.Property(v => v.Address).HasMaxLength(32);
        builder.HasOne<Group>().WithMany().HasForeignKey(v => v.GroupId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SegmentStampConfiguration : IEntityTypeConfiguration<SegmentStamp>
{
    public void Configure(EntityTypeBuilder<SegmentStamp> builder)
    {
        builder.ToTable("SegmentStamps");
        builder.HasKey(s => s.GroupId);
        builder.Property(s => s.GroupId).ValueGeneratedNever();
        builder.HasOne<Group>().WithMany().HasForeignKey(s => s.GroupId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class OperationSegmentConfiguration : IEntityTypeConfiguration<OperationSegment>
{
    public void Configure(EntityTypeBuilder<OperationSegment> builder)
    {
        builder.ToTable("OperationSegments");
        builder.HasKey(s => new { s.OperationId, s.SegmentId });
        builder.HasIndex(s => s.SegmentId);
        builder.HasOne<Operations.Operation>().WithMany().HasForeignKey(s => s.OperationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Segment>().WithMany().HasForeignKey(s => s.SegmentId).OnDelete(DeleteBehavior.Cascade);
    }
}
