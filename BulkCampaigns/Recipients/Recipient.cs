using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Recipients;

/// <summary>One address in a group, with its channel and variables.</summary>
/// <remarks>
/// Variables are one JSON object of text values: a million rows are written and read in bulk, and a
/// column per variable would change the table's shape with every CSV.
/// </remarks>
public sealed class Recipient
{
    public long Id { get; set; }
    public long GroupId { get; set; }

    /// <summary>E.164, e.g. <c>+15323540000</c>.</summary>
    public required string Address { get; set; }

    /// <summary><c>PHONE</c> (SMS/MMS), <c>RCS</c> or <c>WHATSAPP</c>.</summary>
    public required string Channel { get; set; }

    public string VariablesJson { get; set; } = "{}";
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// SQLite only: the variables with every value case-folded, as SQLite's JSONB, what segments filter on. Written by
    /// the import with the row itself (folded while the file is staged); PostgreSQL keeps them in its own side table,
    /// <see cref="Segments.SegmentValue"/> (see Recipients/README.md).
    /// </summary>
    public byte[]? Folded { get; set; }
}

internal sealed class RecipientConfiguration : IEntityTypeConfiguration<Recipient>
{
    public void Configure(EntityTypeBuilder<Recipient> builder)
    {
        builder.ToTable("Recipients");
        // One address once per group; also serves search by address prefix within a group.
        builder.HasIndex(r => new { r.GroupId, r.Address }).IsUnique();
        builder.HasOne<Group>().WithMany().HasForeignKey(r => r.GroupId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(r => r.Address).HasMaxLength(32);
        builder.Property(r => r.Channel).HasMaxLength(16);
    }
}
