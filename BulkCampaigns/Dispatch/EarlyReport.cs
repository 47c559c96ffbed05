using BulkCampaigns.Operations;
using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Dispatch;

/// <summary>
/// A delivery report that came while its message was still being written as SENT (a provider can report within
/// the second a batch keeps its results). Kept here and applied when the message is written, so none is lost.
/// </summary>
public sealed class EarlyReport
{
    public long MessageId { get; set; }
    public MessageStatus Status { get; set; }
    public string? ErrorCode { get; set; }
    public string? ErrorMessage { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
}

internal sealed class EarlyReportConfiguration : IEntityTypeConfiguration<EarlyReport>
{
    public void Configure(EntityTypeBuilder<EarlyReport> builder)
    {
        builder.ToTable("EarlyReports");
        builder.HasKey(r => r.MessageId);
        builder.Property(r => r.MessageId).ValueGeneratedNever();
        builder.Property(r => r.ReceivedAt).HasConversion(UnixMs.Converter);
    }
}
