using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Suppressions;

/// <summary>An opted-out address: never sent to, counted as <c>suppressed</c> in an operation.</summary>
public sealed class Suppression
{
    public long Id { get; set; }

    /// <summary>E.164.</summary>
    public required string Address { get; set; }

    public string? Reason { get; set; }

    /// <summary>Where it came from: <c>manual</c>, <c>import</c>, <c>keyword</c> (STOP), <c>provider</c> (unsubscribed error), <c>api</c>.</summary>
    public string Source { get; set; } = "manual";

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class SuppressionConfiguration : IEntityTypeConfiguration<Suppression>
{
    public void Configure(EntityTypeBuilder<Suppression> builder)
    {
        builder.ToTable("Suppressions");
        builder.HasIndex(s => s.Address).IsUnique();
        builder.Property(s => s.Address).HasMaxLength(32);
        builder.Property(s => s.Reason).HasMaxLength(500);
        builder.Property(s => s.Source).HasMaxLength(32);
    }
}
