using BulkCampaigns.Data;
using Bunit;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace BulkCampaigns.Tests.Infrastructure;

/// <summary>
/// bUnit context with MudBlazor set up once: its services, loose JS interop (MudBlazor calls JS for
/// focus, popovers and sizes) and a popover provider rendered so selects and menus can open.
/// </summary>
public abstract class MudTestContext : BunitContext, IAsyncLifetime
{
    private string? _databasePath;

    protected MudTestContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(o => o.PopoverOptions.CheckForPopoverProvider = false);
        // Every page shows times through the user's clock; with no browser answer and no profile it shows UTC.
        Services.AddScoped<BulkCampaigns.Components.Shared.UserClock>();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>
    /// xUnit 2 disposes test classes synchronously, but some MudBlazor services only dispose asynchronously:
    /// the context is disposed here first, so the later Dispose() finds nothing left to do.
    /// </summary>
    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        DeleteDatabaseFile();
        await CleanUpAsync();
    }

    /// <summary>A test class's own clean-up, after the context and the database file are gone.</summary>
    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    /// <summary>
    /// The app's database on a SQLite file of this test's own, in the temp folder, deleted when the test ends.
    /// Call <see cref="MigrateDatabase"/> once every service is added.
    /// </summary>
    protected void AddDatabaseFile()
    {
        _databasePath = Path.Combine(Path.GetTempPath(), $"bulkcampaigns-{GetType().Name}-{Guid.NewGuid():N}.db");
        Services.AddDbContextFactory<AppDbContext>(o => o.UseSqlite($"Data Source={_databasePath}"));
    }

    protected void MigrateDatabase()
    {
        using var db = Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext();
        db.Database.Migrate();
    }

    private void DeleteDatabaseFile()
    {
        if (_databasePath is null)
        {
            return;
        }
        SqliteConnection.ClearAllPools();
        foreach (var path in new[] { _databasePath, _databasePath + "-wal", _databasePath + "-shm", _databasePath + "-journal" })
        {
            File.Delete(path);
        }
    }

    /// <summary>Renders the providers MudBlazor's dialogs, snackbars and popovers draw into.</summary>
    protected IRenderedComponent<MudPopoverProvider> RenderPopoverProvider() => Render<MudPopoverProvider>();
}
