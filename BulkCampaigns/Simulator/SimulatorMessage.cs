using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Simulator;

/// <summary>What a simulated phone received. The Simulator is a carrier: it keeps every send it accepted, duplicates included.</summary>
public sealed class SimulatorMessage
{
    public long Id { get; set; }
    public required string From { get; set; }
    public required string To { get; set; }
    public required string Body { get; set; }
    public string MediaJson { get; set; } = "[]";
    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>The sender's reference for delivery reports (our message row), like a status callback URL.</summary>
    public long CallbackMessageId { get; set; }

    /// <summary>Decided on receipt, reported when <see cref="ReportDueAt"/> passes: DELIVERED or UNDELIVERED.</summary>
    public bool WillDeliver { get; set; }
    public DateTimeOffset ReportDueAt { get; set; }
}

/// <summary>
/// How far the delivery reports have gone: every simulated message with an ID up to <see cref="ReportedThroughId"/>
/// has been reported. Reports go out in ID order, so one row replaces a flag (and an index) on every message.
/// </summary>
public sealed class SimulatorReportMark
{
    public int Id { get; set; }
    public long ReportedThroughId { get; set; }
}

internal sealed class SimulatorMessageConfiguration : IEntityTypeConfiguration<SimulatorMessage>
{
    public void Configure(EntityTypeBuilder<SimulatorMessage> builder)
    {
        builder.ToTable("SimulatorMessages");
        builder.Property(m => m.From).HasMaxLength(64);
        builder.Property(m => m.To).HasMaxLength(32);
        builder.HasIndex(m => new { m.To, m.Id });
        builder.Property(m => m.ReceivedAt).HasConversion(UnixMs.Converter);
        builder.Property(m => m.ReportDueAt).HasConversion(UnixMs.Converter);
    }
}

internal sealed class SimulatorReportMarkConfiguration : IEntityTypeConfiguration<SimulatorReportMark>
{
    public void Configure(EntityTypeBuilder<SimulatorReportMark> builder)
    {
        builder.ToTable("SimulatorReportMarks");
        builder.Property(m => m.Id).ValueGeneratedNever();
        builder.HasData(new SimulatorReportMark { Id = 1, ReportedThroughId = 0 });
    }
}
