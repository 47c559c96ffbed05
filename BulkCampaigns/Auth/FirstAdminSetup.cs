using System.Data;
using BulkCampaigns.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Auth;

/// <summary>
/// The first-run page's one job: create the first admin while no user exists, and never once one does.
/// </summary>
/// <remarks>
/// The "no user yet" check and the insert must be one atomic step, or two visitors posting at the same moment
/// both become admin (and a form post made later, with any visitor's antiforgery token, would too).
/// The check runs inside a SQLite <c>BEGIN IMMEDIATE</c> transaction: it takes the database's write lock before
/// reading, so a second first-run post (from this process or another instance on the same file) waits for the
/// first to commit and then sees its user. The process-wide semaphore only keeps posts of this process queueing
/// here rather than in SQLite's busy handler.
/// </remarks>
public sealed class FirstAdminSetup(AppDbContext db, UserManager<AppUser> users)
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public async Task<bool> IsDoneAsync(CancellationToken ct = default) => await db.Users.AnyAsync(ct);

    /// <summary>
    /// Creates the admin when no user exists. Returns null when setup is already done (nothing is created),
    /// otherwise Identity's result (which lists what is wrong with the email or password).
    /// </summary>
    public async Task<IdentityResult?> CreateFirstAdminAsync(string email, string password, CancellationToken ct = default)
    {
        await Gate.WaitAsync(ct);
        try
        {
            await db.Database.OpenConnectionAsync(ct);
            try
            {
                // SQLite: BEGIN IMMEDIATE takes the write lock before the check, so a second process waits and then sees
                // the admin. PostgreSQL: serializable, so of two processes that both saw no user one fails to commit.
                await using var transaction = db.Database.GetDbConnection() is SqliteConnection sqlite
                    ? sqlite.BeginTransaction(IsolationLevel.Serializable, deferred: false)
                    : await db.Database.GetDbConnection().BeginTransactionAsync(IsolationLevel.Serializable, ct);
                await db.Database.UseTransactionAsync(transaction, ct);
                if (await db.Users.AnyAsync(ct))
                {
                    return null;
                }
                var result = await Bootstrap.CreateUserAsync(users, email, password, Roles.Admin);
                if (result.Succeeded)
                {
                    await transaction.CommitAsync(ct);
                }
                return result;
            }
            finally
            {
                await db.Database.UseTransactionAsync(null, ct);
                await db.Database.CloseConnectionAsync();
            }
        }
        finally
        {
            Gate.Release();
        }
    }
}
