using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Auth;

/// <summary>An API key: the SID is public, the secret is only kept as a hash.</summary>
public sealed class ApiKey
{
    public long Id { get; set; }
    public required string Sid { get; set; }
    public required string Name { get; set; }
    public required string Role { get; set; }
    public required string SecretHash { get; set; }

    /// <summary>The user who made the key; null for keys made by the operator (the bootstrap key), which are the admins'.</summary>
    public string? OwnerId { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.ToTable("ApiKeys");
        builder.HasIndex(k => k.Sid).IsUnique();
        builder.Property(k => k.Sid).HasMaxLength(64);
        builder.Property(k => k.Name).HasMaxLength(200);
        builder.Property(k => k.Role).HasMaxLength(32);
        builder.Property(k => k.OwnerId).HasMaxLength(450);
        builder.HasIndex(k => k.OwnerId);
    }
}
