using BulkCampaigns.Dispatch;
using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Operations;

/// <summary>Stored as integers: a million rows change status in bulk.</summary>
public enum MessageStatus
{
    Scheduled = 0,
    Queued = 1,

    /// <summary>Claimed by a batch job and about to be, or being, handed to the provider.</summary>
    Sending = 2,
    Sent = 3,
    Delivered = 4,
    Read = 5,
    Undelivered = 6,
    Unaddressable = 7,
    Failed = 8,
    Canceled = 9,
    Suppressed = 10,

    /// <summary>
    /// Outside an A/B test's share, waiting for its winner (counted and shown as SCHEDULED); the decision queues it with
    /// the winner's variant.
    /// </summary>
    Held = 11,
}

/// <summary>One recipient of one operation.</summary>
public sealed class Message
{
    public long Id { get; set; }
    public long OperationId { get; set; }

    /// <summary>E.164; unique within an operation, so an address is sent to once.</summary>
    public required string Address { get; set; }
    public required string Channel { get; set; }

    /// <summary>A snapshot of the recipient's variables when the operation was made.</summary>
    public string VariablesJson { get; set; } = "{}";
    public MessageStatus Status { get; set; }

    /// <summary>The rendered text, written when it is sent.</summary>
    public string? Body { get; set; }
    public int Segments { get; set; }
    public int Attempts { get; set; }
    public string? ErrorCode { get; set; }
    public string? ErrorMessage { get; set; }

    /// <summary>Whether a FAILED message may be retried (transient error that ran out of attempts).</summary>
    public bool Retryable { get; set; }
    public string? ProviderMessageId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>When a job claimed it for sending: the lower bound when asking the provider what it received after a crash.</summary>
    public DateTimeOffset? ClaimedAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }

    /// <summary>Counted clicks on the message's tracked links (<c>Links/</c>), and when the first came.</summary>
    public int Clicks { get; set; }
    public DateTimeOffset? ClickedAt { get; set; }

    /// <summary>The index of its A/B variant in the operation's content; null without variants, or while held for the winner.</summary>
    public int? Variant { get; set; }
}

internal sealed class MessageConfiguration : IEntityTypeConfiguration<Message>
{
    public void Configure(EntityTypeBuilder<Message> builder)
    {
        builder.ToTable("Messages");
        builder.HasIndex(m => new { m.OperationId, m.Address }).IsUnique();
        builder.HasOne<Operation>().WithMany().HasForeignKey(m => m.OperationId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(m => m.Address).HasMaxLength(32);
        builder.Property(m => m.Channel).HasMaxLength(16);
        builder.Property(m => m.ErrorCode).HasMaxLength(32);
        builder.Property(m => m.ErrorMessage).HasMaxLength(500);
        builder.Property(m => m.ProviderMessageId).HasMaxLength(64);
        builder.Property(m => m.CreatedAt).HasConversion(UnixMs.Converter);
        builder.Property(m => m.UpdatedAt).HasConversion(UnixMs.Converter);
        builder.Property(m => m.ClaimedAt).HasConversion(UnixMs.NullableConverter);
        builder.Property(m => m.SentAt).HasConversion(UnixMs.NullableConverter);
        builder.Property(m => m.ClickedAt).HasConversion(UnixMs.NullableConverter);
    }
}
