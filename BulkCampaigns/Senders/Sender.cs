using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Senders;

/// <summary>A <c>from</c> address the tenant owns, with its throughput limit in SMS segments per second.</summary>
public sealed class Sender
{
    public long Id { get; set; }

    /// <summary>E.164 for phone channels.</summary>
    public required string Address { get; set; }

    /// <summary><c>SMS</c> (also MMS), <c>RCS</c> or <c>WHATSAPP</c>.</summary>
    public required string Channel { get; set; }

    public int Mps { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class SenderConfiguration : IEntityTypeConfiguration<Sender>
{
    public void Configure(EntityTypeBuilder<Sender> builder)
    {
        builder.ToTable("Senders");
        builder.HasIndex(s => new { s.Address, s.Channel }).IsUnique();
        builder.Property(s => s.Address).HasMaxLength(64);
        builder.Property(s => s.Channel).HasMaxLength(16);
        builder.Property(s => s.CreatedAt).HasConversion(UnixMs.Converter);
        builder.Property(s => s.UpdatedAt).HasConversion(UnixMs.Converter);
    }
}
