using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Campaigns;

/// <summary>What a marketer has chosen so far in the wizard; saved as they go so leaving loses nothing.</summary>
public sealed record DraftData
{
    public string Name { get; init; } = "";
    public IReadOnlyList<string> GroupIds { get; init; } = [];

    /// <summary>A saved segment (<c>seg_…</c>) to send to instead of <see cref="GroupIds"/>; evaluated at launch.</summary>
    public string? SegmentId { get; init; }

    /// <summary>A saved template (<c>cnt_…</c>), or null to send <see cref="ContentJson"/> written in the wizard.</summary>
    public string? ContentId { get; init; }

    /// <summary>The content written in the wizard, in the API's shape.</summary>
    public string? ContentJson { get; init; }

    /// <summary>Send the text's links as short links that count clicks: on unless the marketer turns it off.</summary>
    public bool TrackLinks { get; init; } = true;
    public string? SenderId { get; init; }

    /// <summary>The marketer chose "Send at a date and time": without a valid <see cref="SendAtLocal"/> the campaign cannot launch.</summary>
    public bool SendLater { get; init; }

    /// <summary>The chosen local send time; ignored when sending at launch.</summary>
    public DateTime? SendAtLocal { get; init; }

    /// <summary>Scheduled for later (drafts saved before <see cref="SendLater"/> existed have only a time).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Scheduled => SendLater || SendAtLocal is not null;
    public string TimeZoneId { get; init; } = "UTC";

    /// <summary>The campaign's own messages per second; null: the sender's.</summary>
    public int? Mps { get; init; }

    /// <summary>No sends between <see cref="QuietStart"/> and <see cref="QuietEnd"/> in the recipient's local time.</summary>
    public bool QuietHours { get; init; }
    public TimeSpan QuietStart { get; init; } = new(21, 0, 0);
    public TimeSpan QuietEnd { get; init; } = new(8, 0, 0);

    /// <summary>The marketer confirmed the content's placeholders that the audience lacks.</summary>
    public bool UnknownVariablesConfirmed { get; init; }

    /// <summary>The pace as the engine takes it; the quiet hours' zone is the schedule's.</summary>
    public PaceDraft Pace() => new(Mps, QuietHours
        ? new QuietHoursDraft(Hhmm(QuietStart), Hhmm(QuietEnd), TimeZoneId)
        : null);

    private static string Hhmm(TimeSpan time) => TimeOnly.FromTimeSpan(time).ToString(Dispatch.QuietHours.TimeFormat, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// When a campaign that needs <paramref name="sending"/> of sending time ends, starting at its send time (or
    /// <paramref name="now"/>). Quiet hours are counted in the campaign's zone: recipients elsewhere may end a little
    /// earlier or later.
    /// </summary>
    public DateTimeOffset EstimatedEnd(TimeSpan sending, DateTimeOffset now)
    {
        var start = SendAtUtc() is { } at && at > now ? at : now;
        if (!QuietHours || QuietStart == QuietEnd)
        {
            return start + sending;
        }
        var window = new Dispatch.QuietHours(TimeOnly.FromTimeSpan(QuietStart), TimeOnly.FromTimeSpan(QuietEnd), TimeZoneId);
        return window.FinishAfter(start, sending, Dispatch.QuietHours.FindIanaZone(TimeZoneId) ?? TimeZoneInfo.Utc);
    }

    /// <summary>The send time in UTC, or null for now; null too when the local time does not exist in that zone.</summary>
    public DateTimeOffset? SendAtUtc()
    {
        if (SendAtLocal is not { } local || Dispatch.QuietHours.FindIanaZone(TimeZoneId) is not { } zone)
        {
            return null;
        }
        var unspecified = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        return zone.IsInvalidTime(unspecified) ? null : new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(unspecified, zone), TimeSpan.Zero);
    }
}

/// <summary>A saved wizard draft; a user keeps as many as they like.</summary>
public sealed class CampaignDraft
{
    public long Id { get; set; }
    public required string Owner { get; set; }
    public required string DataJson { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class CampaignDraftConfiguration : IEntityTypeConfiguration<CampaignDraft>
{
    public void Configure(EntityTypeBuilder<CampaignDraft> builder)
    {
        builder.ToTable("CampaignDrafts");
        builder.HasIndex(d => d.Owner);
        builder.Property(d => d.Owner).HasMaxLength(256);
    }
}

/// <summary>The schedule step's choice: later or at launch, the local time (null: none yet) and its zone.</summary>
public sealed record ScheduleChoice(bool SendLater, DateTime? SendAtLocal, string TimeZoneId);
