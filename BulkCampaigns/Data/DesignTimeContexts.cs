using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace BulkCampaigns.Data;

/// <summary>
/// Lets <c>dotnet ef … --context PostgresAppDbContext</c> build the PostgreSQL model without a server or the app's
/// settings: adding a migration and <c>has-pending-model-changes</c> never connect.
/// </summary>
public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresAppDbContext>
{
    public PostgresAppDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresAppDbContext>()
            .UseNpgsql("Host=localhost;Database=bulkcampaigns_design")
            .Options);
}

/// <summary>
/// The same for <c>--context AppDbContext</c> (SQLite). Without it the tools, asked for the base type, take the
/// derived context that has a factory and would write PostgreSQL migrations into the SQLite folder.
/// </summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<AppDbContext>
{
    public AppDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<AppDbContext>()
            .UseSqlite("Data Source=bulkcampaigns-design.db")
            .Options);
}
