using BulkCampaigns.Dispatch;
using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Operations;

public enum OperationStatus
{
    Scheduled = 0,
    Processing = 1,
    Paused = 2,
    Completed = 3,
    Canceled = 4,

    /// <summary>Never stored: how the API and the pages show a PROCESSING operation waiting for its A/B winner.</summary>
    WaitingForWinner = 5,
}

/// <summary>
/// One send request (a campaign is an operation with a name). Its counters are kept in the same
/// transactions that move its messages, so each message counts in exactly one bucket.
/// </summary>
public sealed class Operation
{
    public long Id { get; set; }
    public string? Name { get; set; }
    public OperationStatus Status { get; set; }
    public long SenderId { get; set; }
    public required string FromAddress { get; set; }
    public required string FromChannel { get; set; }

    /// <summary>The content object as checked by ContentRules (inline text and media, or modules); a stored template is copied in.</summary>
    public required string ContentJson { get; set; }
    public string TagsJson { get; set; } = "{}";
    public DateTimeOffset? SendAt { get; set; }

    /// <summary>The operation's own rate limit (≤ the sender's, which stays shared by all its operations); null: the sender's.</summary>
    public int? Mps { get; set; }

    /// <summary>Quiet hours in the recipient's local time; all three set, or none.</summary>
    public TimeOnly? QuietStart { get; set; }
    public TimeOnly? QuietEnd { get; set; }

    /// <summary>The zone for recipients whose country has several zones.</summary>
    public string? QuietTimeZone { get; set; }

    public QuietHours? QuietHours =>
        QuietHours.Of(QuietStart, QuietEnd, QuietTimeZone);

    /// <summary>A test send from the wizard: kept out of the campaigns list and the dashboard's totals.</summary>
    public bool IsTest { get; set; }

    /// <summary>Why the operation paused itself (e.g. too many failures); null when a person paused it.</summary>
    public string? PauseReason { get; set; }

    /// <summary>The range of its message IDs; batches are slices of it.</summary>
    public long FirstMessageId { get; set; }
    public long LastMessageId { get; set; }

    public long Total { get; set; }
    public long Attempts { get; set; }
    public long Scheduled { get; set; }
    public long Queued { get; set; }

    /// <summary>Handed to the provider, answer not yet written: shown as <c>queued</c>.</summary>
    public long Sending { get; set; }
    public long Sent { get; set; }
    public long Delivered { get; set; }
    public long Read { get; set; }
    public long Undelivered { get; set; }
    public long Unaddressable { get; set; }
    public long Failed { get; set; }
    public long Canceled { get; set; }
    public long Suppressed { get; set; }

    /// <summary>Messages with at least one counted click, and all counted clicks: not status buckets, outside the sum rule.</summary>
    public long Clicked { get; set; }
    public long Clicks { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>An A/B test's decision time (its launch plus <c>decideAfter</c>); null without a test.</summary>
    public DateTimeOffset? DecideAt { get; set; }

    /// <summary>The decision once taken: <c>{"name", "decidedAt", "rates"}</c>; null before (or without a test).</summary>
    public string? WinnerJson { get; set; }

    /// <summary>Stored PROCESSING, shown WAITING_FOR_WINNER: its test share is done and its rest waits for the decision.</summary>
    public bool IsWaitingForWinner =>
        Status == OperationStatus.Processing && DecideAt is not null && WinnerJson is null && Queued == 0 && Sending == 0;
}

internal sealed class OperationConfiguration : IEntityTypeConfiguration<Operation>
{
    public void Configure(EntityTypeBuilder<Operation> builder)
    {
        builder.ToTable("Operations");
        builder.Property(o => o.Name).HasMaxLength(200);
        builder.Property(o => o.FromAddress).HasMaxLength(64);
        builder.Property(o => o.FromChannel).HasMaxLength(16);
        builder.Property(o => o.PauseReason).HasMaxLength(500);
        builder.Property(o => o.QuietTimeZone).HasMaxLength(64);
        builder.Ignore(o => o.QuietHours);
        builder.HasIndex(o => o.Status);
        builder.Property(o => o.SendAt).HasConversion(UnixMs.NullableConverter);
        builder.Property(o => o.CreatedAt).HasConversion(UnixMs.Converter);
        builder.Property(o => o.UpdatedAt).HasConversion(UnixMs.Converter);
        builder.Property(o => o.StartedAt).HasConversion(UnixMs.NullableConverter);
        builder.Property(o => o.CompletedAt).HasConversion(UnixMs.NullableConverter);
        builder.Property(o => o.DecideAt).HasConversion(UnixMs.NullableConverter);
        builder.Ignore(o => o.IsWaitingForWinner);
    }
}
