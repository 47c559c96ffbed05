using BulkCampaigns.Auth;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Data;

/// <summary>
/// The one database of the app. Each feature keeps its entities and their
/// <see cref="IEntityTypeConfiguration{TEntity}"/> in its own folder; they are applied from the assembly.
/// On SQLite the app uses this type itself (its migrations are <c>Data/Migrations</c>); on PostgreSQL it uses
/// <see cref="PostgresAppDbContext"/>, the same model with its own migrations (see docs/postgres.md).
/// Code everywhere asks for <c>IDbContextFactory&lt;AppDbContext&gt;</c> and never needs to know which.
/// </summary>
public class AppDbContext : IdentityDbContext<AppUser>, IDataProtectionKeyContext
{
    /// <summary>The PostgreSQL collation that compares text regardless of letter case (SQLite's NOCASE there).</summary>
    public const string PostgresCaseInsensitive = "case_insensitive";

    public AppDbContext(DbContextOptions<AppDbContext> options) : base(options)
    {
    }

    protected AppDbContext(DbContextOptions options) : base(options)
    {
    }

    /// <summary>The data-protection key ring (sign-in cookies, antiforgery and live-update tokens), shared by every node.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys { get; set; } = null!;

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
        builder.Entity<DataProtectionKey>().ToTable("DataProtectionKeys");
        SegmentLayout(builder);
    }

    /// <summary>
    /// Where segments read folded variables. SQLite: on the recipient's row, written with it by the import (a side table
    /// cost the import a second pass of about 2 s a million rows); PostgreSQL overrides it (see Recipients/README.md).
    /// </summary>
    protected virtual void SegmentLayout(ModelBuilder builder)
    {
        builder.Ignore<Recipients.Segments.SegmentValue>();
        // A group's recipients in rowid order (SQLite appends the rowid to every index): a segment's members are paged
        // by recipient ID, which the (GroupId, Address) index alone could only give by sorting the whole group per page.
        builder.Entity<Recipients.Recipient>().HasIndex(r => r.GroupId);
    }
}

/// <summary>The app's model on PostgreSQL, with migrations of its own in <c>Data/PostgresMigrations</c>.</summary>
public sealed class PostgresAppDbContext(DbContextOptions<PostgresAppDbContext> options) : AppDbContext(options)
{
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // ICU, level 2: "Zoë" = "ZOË" but not "Zoe"; what sorting and seeking by name compare with (NOCASE on SQLite).
        builder.HasCollation(PostgresCaseInsensitive, locale: "und-u-ks-level2", provider: "icu", deterministic: false);
        // Every text column compares byte by byte, as SQLite's BINARY does, whatever the database's own locale: keyset
        // paging by address ("+1555" up to "+1555:") and the unique keys then mean the same on both providers.
        foreach (var property in builder.Model.GetEntityTypes().SelectMany(e => e.GetProperties()).Where(p => p.ClrType == typeof(string)))
        {
            property.SetCollation("C");
        }
        // No foreign key from a message to its operation here: PostgreSQL checks one with a trigger per inserted row,
        // which was a third of a million-message launch (10.8-12.7 s without it against 17.4-17.7 s with it, the launch's
        // INSERT alone in psql). Nothing is lost: messages are only written by the operation's creation, in the
        // transaction that inserts the operation, and no operation is ever deleted (so the cascade never ran). SQLite
        // keeps the key: its check is a look-up in a cached page, and dropping it there would rebuild the table.
        WithoutKey<Operations.Message, Operations.Operation>(builder);
        // Nor from a recipient, or its segment row, to its group: the same check per row was 9.4 s of a million-row
        // import's 24.4 s move (4.6 s for the recipients, 4.8 s for their segment rows; EXPLAIN ANALYZE in psql). The
        // import writes them only while it holds the group's row (FOR UPDATE, or GroupGone when it was deleted), and
        // deleting a group deletes them in its own transaction (GroupService.DeleteAsync), so the cascade is kept by code.
        WithoutKey<Recipients.Recipient, Recipients.Group>(builder);
        WithoutKey<Recipients.Segments.SegmentValue, Recipients.Group>(builder);
    }

    /// <summary>Drops the foreign keys from <typeparamref name="TDependent"/> to <typeparamref name="TPrincipal"/> from this model.</summary>
    private static void WithoutKey<TDependent, TPrincipal>(ModelBuilder builder) where TDependent : class
    {
        var entity = builder.Entity<TDependent>().Metadata;
        foreach (var key in entity.GetForeignKeys().Where(k => k.PrincipalEntityType.ClrType == typeof(TPrincipal)).ToList())
        {
            entity.RemoveForeignKey(key);
        }
    }

    /// <summary>
    /// Segments read the folded variables from a side table here, built by the import in the database and by binary
    /// COPY (see Recipients/README.md), as <c>jsonb</c>; only raw SQL writes or reads them, the conversion just gives EF
    /// a column type it can map.
    /// </summary>
    protected override void SegmentLayout(ModelBuilder builder)
    {
        builder.Entity<Recipients.Recipient>().Ignore(r => r.Folded);
        builder.Entity<Recipients.Segments.SegmentValue>().Property(v => v.Folded).HasColumnType("jsonb")
            .HasConversion(bytes => System.Text.Encoding.UTF8.GetString(bytes), text => System.Text.Encoding.UTF8.GetBytes(text));
    }
}
