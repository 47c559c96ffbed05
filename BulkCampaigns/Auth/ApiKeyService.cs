using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Auth;

public sealed record ApiKeyView(string Sid, string Name, string Role, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt, string? OwnerEmail = null);

/// <summary>The secret is shown once, at creation.</summary>
public sealed record CreatedApiKey(string Sid, string Secret, string Name, string Role);

public enum RevokeOutcome
{
    Revoked,
    NotFound,
    Forbidden,
}

/// <summary>Creates, lists, revokes and checks API keys. Secrets are stored as salted PBKDF2 hashes.</summary>
/// <remarks>
/// Who may do what is decided here, not only in the page: an Admin sees and manages every key; a Marketer sees and
/// manages only the keys they made, and never makes one above their own role (so a Marketer cannot cut an Admin's
/// automations, nor give themselves Admin through the API); a Viewer sees no keys.
/// </remarks>
public sealed class ApiKeyService(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    private const int Iterations = 10_000;

    /// <summary>Verified for unknown or revoked SIDs, so they take as long as a wrong secret for a real key.</summary>
    private static readonly Lazy<string> DummyHash = new(() => Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(24))));

    /// <summary>The roles of keys <paramref name="user"/> may make: up to their own.</summary>
    public static IReadOnlyList<string> RolesGrantableBy(ClaimsPrincipal user) =>
        user.IsInRole(Roles.Admin) ? Roles.All
        : user.IsInRole(Roles.Marketer) ? [Roles.Marketer, Roles.Viewer]
        : [];

    /// <summary>Makes a key owned by <paramref name="owner"/>, if their role allows that key's role.</summary>
    /// <exception cref="UnauthorizedAccessException">The user may not make a key of that role.</exception>
    public async Task<CreatedApiKey> CreateAsync(ClaimsPrincipal owner, string name, string role, CancellationToken ct = default)
    {
        if (!RolesGrantableBy(owner).Contains(role))
        {
            throw new UnauthorizedAccessException(owner.IsInRole(Roles.Viewer) || RolesGrantableBy(owner).Count == 0
                ? "A Viewer cannot make API keys; ask an admin."
                : $"You cannot make a key with the {role} role: only up to your own role.");
        }
        return await CreateKeyAsync(name, role, UserId(owner), ct);
    }

    /// <summary>Makes a key with no owner (the operator's, managed by admins). For start-up and maintenance code, not for pages.</summary>
    public Task<CreatedApiKey> CreateAsync(string name, string role, CancellationToken ct = default) => CreateKeyAsync(name, role, null, ct);

    private async Task<CreatedApiKey> CreateKeyAsync(string name, string role, string? ownerId, CancellationToken ct)
    {
        var sid = "SK" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
        await AddAsync(sid, secret, name, role, ownerId, ct);
        return new CreatedApiKey(sid, secret, name, role);
    }

    /// <summary>Adds a key with a given SID and secret (the bootstrap key from configuration) unless that SID exists.</summary>
    public async Task<bool> EnsureAsync(string sid, string secret, string name, string role, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Set<ApiKey>().AnyAsync(k => k.Sid == sid, ct))
        {
            return false;
        }
        await AddAsync(sid, secret, name, role, null, ct);
        return true;
    }

    private async Task AddAsync(string sid, string secret, string name, string role, string? ownerId, CancellationToken ct)
    {
        if (!Roles.All.Contains(role))
        {
            throw new ArgumentException($"Unknown role '{role}'.", nameof(role));
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.Add(new ApiKey { Sid = sid, Name = name.Trim(), Role = role, SecretHash = Hash(secret), OwnerId = ownerId, CreatedAt = clock.GetUtcNow() });
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The keys <paramref name="user"/> may see: all for an Admin, their own for a Marketer, none for a Viewer.</summary>
    public async Task<IReadOnlyList<ApiKeyView>> ListAsync(ClaimsPrincipal user, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var keys = Visible(db, user);
        return await (
                from k in keys
                join u in db.Users on k.OwnerId equals u.Id into owners
                from owner in owners.DefaultIfEmpty()
                orderby k.Id descending
                select new ApiKeyView(k.Sid, k.Name, k.Role, k.CreatedAt, k.LastUsedAt, k.RevokedAt, owner == null ? null : owner.Email))
            .ToListAsync(ct);
    }

    /// <summary>Revokes a key <paramref name="user"/> may manage. Someone else's key answers Forbidden and stays as it is.</summary>
    public async Task<RevokeOutcome> RevokeAsync(ClaimsPrincipal user, string sid, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Set<ApiKey>().AnyAsync(k => k.Sid == sid && k.RevokedAt == null, ct))
        {
            return RevokeOutcome.NotFound;
        }
        if (!user.IsInRole(Roles.Admin) && !user.IsInRole(Roles.Marketer))
        {
            return RevokeOutcome.Forbidden;
        }
        var now = clock.GetUtcNow();
        var revoked = await Visible(db, user).Where(k => k.Sid == sid && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), ct);
        _verified.TryRemove(sid, out _);
        return revoked > 0 ? RevokeOutcome.Revoked : RevokeOutcome.Forbidden;
    }

    /// <summary>
    /// Called when a user is removed (<paramref name="newRole"/> null) or given another role: their keys that the
    /// new role could not make are revoked, so a removed or demoted user's automations lose what they no longer have.
    /// </summary>
    public async Task<int> RevokeBeyondRoleAsync(string ownerId, string? newRole, CancellationToken ct = default)
    {
        var keep = newRole is null ? [] : RolesGrantableBy(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Role, newRole)], "role")));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var sids = await db.Set<ApiKey>().Where(k => k.OwnerId == ownerId && k.RevokedAt == null && !keep.Contains(k.Role))
            .Select(k => k.Sid).ToListAsync(ct);
        var now = clock.GetUtcNow();
        var revoked = await db.Set<ApiKey>().Where(k => sids.Contains(k.Sid) && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), ct);
        foreach (var sid in sids)
        {
            _verified.TryRemove(sid, out _);
        }
        return revoked;
    }

    private static IQueryable<ApiKey> Visible(AppDbContext db, ClaimsPrincipal user)
    {
        var keys = db.Set<ApiKey>().AsNoTracking();
        if (user.IsInRole(Roles.Admin))
        {
            return keys;
        }
        var me = UserId(user);
        return user.IsInRole(Roles.Marketer) && me is not null ? keys.Where(k => k.OwnerId == me) : keys.Where(_ => false);
    }

    private static string? UserId(ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier);

    /// <summary>Returns the key's name and role when the SID exists, is not revoked and the secret matches.</summary>
    /// <remarks>
    /// PBKDF2 is slow on purpose, so a key that was just verified is remembered for a short while
    /// (by a fast hash of its secret); revoking a key forgets it at once. An unknown SID costs one verification
    /// too (against a dummy hash), so timing does not tell which SIDs exist.
    /// </remarks>
    public async Task<ApiKeyView?> ValidateAsync(string sid, string secret, CancellationToken ct = default)
    {
        var fingerprint = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
        var now = clock.GetUtcNow();
        if (_verified.TryGetValue(sid, out var cached) && cached.Fingerprint == fingerprint && cached.Until > now)
        {
            return cached.Key;
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = await db.Set<ApiKey>().AsNoTracking().FirstOrDefaultAsync(k => k.Sid == sid && k.RevokedAt == null, ct);
        Interlocked.Increment(ref _verifications);
        if (!Verify(secret, key?.SecretHash ?? DummyHash.Value) || key is null)
        {
            return null;
        }
        var view = new ApiKeyView(key.Sid, key.Name, key.Role, key.CreatedAt, key.LastUsedAt, key.RevokedAt);
        _verified[sid] = (fingerprint, view, now.AddSeconds(60));
        if (key.LastUsedAt is null || now - key.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            await db.Set<ApiKey>().Where(k => k.Id == key.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), ct);
        }
        return view;
    }

    private readonly ConcurrentDictionary<string, (string Fingerprint, ApiKeyView Key, DateTimeOffset Until)> _verified = new();

    /// <summary>How many secrets this service has verified (real or dummy): lets tests see that every path does the work.</summary>
    internal long Verifications => Interlocked.Read(ref _verifications);

    private long _verifications;

    internal static string Hash(string secret)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, Iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256${Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    internal static bool Verify(string secret, string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != "pbkdf2-sha256" || !int.TryParse(parts[1], out var iterations))
        {
            return false;
        }
        var salt = Convert.FromBase64String(parts[2]);
        var expected = Convert.FromBase64String(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
