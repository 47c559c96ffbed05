using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BulkCampaigns.Recipients;

public static class ImportStatus
{
    public const string Processing = "PROCESSING";
    public const string Completed = "COMPLETED";
    public const string Failed = "FAILED";
}

public static class ImportMode
{
    public const string Upsert = "upsert";
    public const string Append = "append";
    public const string Replace = "replace";

    public static readonly string[] All = [Upsert, Append, Replace];
}

/// <summary>
/// One CSV upload into a group. The database is the truth about its progress: Hangfire.InMemory forgets
/// on restart, so a start-up step resumes every import still <c>PROCESSING</c> from its stored file.
/// </summary>
public sealed class Import
{
    public long Id { get; set; }
    public long GroupId { get; set; }
    public string Status { get; set; } = ImportStatus.Processing;
    public string Mode { get; set; } = ImportMode.Upsert;
    public required string DefaultRegion { get; set; }

    /// <summary>The header chosen for the address (null: detected when the job reads the header).</summary>
    public string? AddressColumn { get; set; }
    public string? ChannelColumn { get; set; }

    /// <summary>The name the user's file had, for display.</summary>
    public string FileName { get; set; } = "upload.csv";

    /// <summary>The stored upload, relative to the data folder; deleted once the import ends.</summary>
    public required string StoredFile { get; set; }

    /// <summary>The node whose data folder holds <see cref="StoredFile"/> (<c>Node:Name</c>): it alone can run the import.</summary>
    [System.ComponentModel.DataAnnotations.MaxLength(200)]
    public string? NodeName { get; set; }

    public long Bytes { get; set; }
    public long BytesRead { get; set; }
    public long RowsRead { get; set; }
    public long Imported { get; set; }
    public long Updated { get; set; }
    public long Duplicates { get; set; }
    public long Rejected { get; set; }

    /// <summary>Why it failed, or a short summary once completed.</summary>
    public string? Message { get; set; }

    /// <summary>How many times a job started on it (a crash-resumed import shows 2).</summary>
    public int Attempts { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
}

/// <summary>A rejected CSV row, kept whole so the errors report lists every one, not only the first 100.</summary>
public sealed class ImportError
{
    public long Id { get; set; }
    public long ImportId { get; set; }

    /// <summary>The record's number among the data rows (first after the header is 1).</summary>
    public long Row { get; set; }

    /// <summary>The file line on which the record starts.</summary>
    public long Line { get; set; }

    public string? Column { get; set; }
    public string? Value { get; set; }
    public required string Reason { get; set; }
}

/// <summary>
/// A row of a file merged with an earlier row of the same address (after normalization): which row went into which
/// address, so a marketer can see that "+1 201 555 0101" and "201-555-0101" were one person.
/// </summary>
public sealed class ImportDuplicate
{
    public long Id { get; set; }
    public long ImportId { get; set; }

    /// <summary>The merged row's number among the data rows, and the file line it starts on.</summary>
    public long Row { get; set; }
    public long Line { get; set; }

    /// <summary>The E.164 address both rows normalized to.</summary>
    public required string Address { get; set; }

    /// <summary>The first row of the file with that address.</summary>
    public long FirstRow { get; set; }
}

internal sealed class ImportDuplicateConfiguration : IEntityTypeConfiguration<ImportDuplicate>
{
    public void Configure(EntityTypeBuilder<ImportDuplicate> builder)
    {
        builder.ToTable("ImportDuplicates");
        builder.HasOne<Import>().WithMany().HasForeignKey(e => e.ImportId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(e => new { e.ImportId, e.Row });
        builder.Property(e => e.Address).HasMaxLength(32);
    }
}

internal sealed class ImportConfiguration : IEntityTypeConfiguration<Import>
{
    public void Configure(EntityTypeBuilder<Import> builder)
    {
        builder.ToTable("Imports");
        builder.HasOne<Group>().WithMany().HasForeignKey(i => i.GroupId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(i => new { i.GroupId, i.Id });
        builder.HasIndex(i => i.Status);
        builder.Property(i => i.Status).HasMaxLength(16);
        builder.Property(i => i.Mode).HasMaxLength(16);
        builder.Property(i => i.DefaultRegion).HasMaxLength(8);
        builder.Property(i => i.AddressColumn).HasMaxLength(200);
        builder.Property(i => i.ChannelColumn).HasMaxLength(200);
        builder.Property(i => i.FileName).HasMaxLength(260);
        builder.Property(i => i.StoredFile).HasMaxLength(260);
        builder.Property(i => i.Message).HasMaxLength(1000);
    }
}

internal sealed class ImportErrorConfiguration : IEntityTypeConfiguration<ImportError>
{
    public void Configure(EntityTypeBuilder<ImportError> builder)
    {
        builder.ToTable("ImportErrors");
        builder.HasOne<Import>().WithMany().HasForeignKey(e => e.ImportId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(e => new { e.ImportId, e.Row });
    }
}
