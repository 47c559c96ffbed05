using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Content;

/// <summary>A saved message template (docs/api.md: Content), addressed publicly as <c>cnt_…</c>.</summary>
public sealed class ContentTemplate
{
    public long Id { get; set; }
    public required string Name { get; set; }

    /// <summary>The <see cref="MessageContent"/> as JSON, in the API's shape.</summary>
    public required string ContentJson { get; set; }

    /// <summary>The channels the content can go out on, comma-separated (SMS, MMS, RCS, WHATSAPP), for lists.</summary>
    public string Channels { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class ContentTemplateConfiguration : IEntityTypeConfiguration<ContentTemplate>
{
    public void Configure(EntityTypeBuilder<ContentTemplate> builder)
    {
        builder.ToTable("ContentTemplates");
        builder.Property(t => t.Name).HasMaxLength(ContentRules.MaxNameLength);
        builder.Property(t => t.Channels).HasMaxLength(64);
        builder.HasIndex(t => t.Name);
    }
}
