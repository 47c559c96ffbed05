using BulkCampaigns.Data;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Postgres;

/// <summary>Each provider's migrations cover the model, apply to a fresh database, and an old SQLite file still upgrades.</summary>
public sealed class MigrationsTests
{
    [Fact]
    public void The_model_has_no_change_a_migration_does_not_cover_on_either_provider()
    {
        // What `dotnet ef migrations has-pending-model-changes --context …` checks, through the same design-time factories.
        using var sqlite = new SqliteDesignTimeFactory().CreateDbContext([]);
        using var postgres = new PostgresDesignTimeFactory().CreateDbContext([]);

        Assert.False(sqlite.Database.HasPendingModelChanges(), "the SQLite model changed: add a migration with --context AppDbContext (docs/postgres.md)");
        Assert.False(postgres.Database.HasPendingModelChanges(), "the PostgreSQL model changed: add a migration with --context PostgresAppDbContext (docs/postgres.md)");
        Assert.NotEmpty(postgres.Database.GetMigrations());
        Assert.Empty(postgres.Database.GetMigrations().Intersect(sqlite.Database.GetMigrations()));
    }

    [Fact]
    public async Task A_fresh_PostgreSQL_database_gets_every_migration_Hangfire_schema_and_the_key_ring_at_start()
    {
        using var app = new PostgresAppFactory();
        _ = app.CreateClient(); // starts the app: migrations run at start

        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        Assert.IsType<PostgresAppDbContext>(db);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.Equal(db.Database.GetMigrations().Count(), await app.Database.CountAsync("""SELECT COUNT(*) FROM "__EFMigrationsHistory" """));
        Assert.Equal(1, await app.Database.CountAsync("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'hangfire' AND table_name = 'jobqueue'"));
        Assert.Equal(1, await app.Database.CountAsync("SELECT COUNT(*) FROM pg_collation WHERE collname = 'case_insensitive'"));
    }

    [Fact]
    public async Task A_SQLite_database_made_before_PostgreSQL_support_upgrades_and_keeps_its_data()
    {
        using var app = new SqliteAppFactory();
        var options = new DbContextOptionsBuilder<AppDbContext>().UseSqlite($"Data Source={app.DatabasePath}").Options;
        await using (var old = new AppDbContext(options))
        {
            // The database as the last release left it: every migration up to ImportDuplicates, and a group in it.
            await old.GetService<IMigrator>().MigrateAsync("20261201001449_ImportDuplicates");
            await old.Database.ExecuteSqlRawAsync("""
                INSERT INTO Groups (Name, RecipientCount, AttributeKeysJson, CreatedAt, UpdatedAt)
                VALUES ('Kept from before', 0, '[]', '2026-11-30 10:00:00+00:00', '2026-11-30 10:00:00+00:00')
                """);
        }
        SqliteConnection.ClearAllPools();

        var groups = await app.CreateApiClient().GetStringAsync("/v1/Groups");

        Assert.Contains("Kept from before", groups, StringComparison.Ordinal);
        await using var upgraded = new AppDbContext(options);
        Assert.Empty(await upgraded.Database.GetPendingMigrationsAsync());
        Assert.True(await upgraded.DataProtectionKeys.AnyAsync(), "the key ring is kept in the upgraded database");
    }
}
