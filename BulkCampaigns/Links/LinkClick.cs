using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Links;

/// <summary>
/// One counted click on a tracked link: which message, which of its links and where it led. The message's own
/// <c>Clicks</c>/<c>ClickedAt</c> and the operation's <c>Clicked</c>/<c>Clicks</c> are written in the same transaction;
/// these rows are what the per-link counts and the clicks-over-time chart are read from.
/// </summary>
public sealed class LinkClick
{
    public long Id { get; set; }
    public long OperationId { get; set; }
    public long MessageId { get; set; }

    /// <summary>The link's place in the message's text (0 for the first).</summary>
    public int LinkIndex { get; set; }
    public required string Url { get; set; }

    /// <summary>Unix ms.</summary>
    public long At { get; set; }
}

/// <summary>
/// The secret that makes tracked-link codes unguessable (<see cref="LinkCodes"/>). One row, made on first use and shared
/// by every node through the database, so a code made by one node is recognised by all, also after a restart.
/// </summary>
public sealed class LinkKey
{
    public int Id { get; set; }
    public required byte[] Key { get; set; }
}

internal sealed class LinkClickConfiguration : IEntityTypeConfiguration<LinkClick>
{
    public void Configure(EntityTypeBuilder<LinkClick> builder)
    {
        builder.ToTable("LinkClicks");
        builder.HasIndex(c => new { c.OperationId, c.At });
        builder.Property(c => c.Url).HasMaxLength(4000);
        builder.HasOne<BulkCampaigns.Operations.Operation>().WithMany().HasForeignKey(c => c.OperationId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class LinkKeyConfiguration : IEntityTypeConfiguration<LinkKey>
{
    public void Configure(EntityTypeBuilder<LinkKey> builder)
    {
        builder.ToTable("LinkKeys");
        builder.Property(k => k.Id).ValueGeneratedNever();
    }
}
