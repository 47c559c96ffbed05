using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using BulkCampaigns.Data;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Auth;

public sealed record ApiKeyView(string Sid, string Name, string Role, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>The secret is shown once, at creation.</summary>
public sealed record CreatedApiKey(string Sid, string Secret, string Name, string Role);

/// <summary>Creates, lists, revokes and checks API keys. Secrets are stored as salted PBKDF2 hashes.</summary>
public sealed class ApiKeyService(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    private const int Iterations = 10_000;

    public async Task<CreatedApiKey> CreateAsync(string name, string role, CancellationToken ct = default)
    {
        var sid = "SK" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
        await AddAsync(sid, secret, name, role, ct);
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
        await AddAsync(sid, secret, name, role, ct);
        return true;
    }

    private async Task AddAsync(string sid, string secret, string name, string role, CancellationToken ct)
    {
        if (!Roles.All.Contains(role))
        {
            throw new ArgumentException($"Unknown role '{role}'.", nameof(role));
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.Add(new ApiKey { Sid = sid, Name = name.Trim(), Role = role, SecretHash = Hash(secret), CreatedAt = clock.GetUtcNow() });
        await db.SaveChangesAsync(ct);
    }

    public async Task<IReadOnlyList<ApiKeyView>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var keys = await db.Set<ApiKey>().AsNoTracking()
            .OrderByDescending(k => k.Id)
            .Select(k => new ApiKeyView(k.Sid, k.Name, k.Role, k.CreatedAt, k.LastUsedAt, k.RevokedAt))
            .ToListAsync(ct);
        return keys;
    }

    public async Task<bool> RevokeAsync(string sid, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        _verified.TryRemove(sid, out _);
        return await db.Set<ApiKey>().Where(k => k.Sid == sid && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), ct) > 0;
    }

    /// <summary>Returns the key's name and role when the SID exists, is not revoked and the secret matches.</summary>
    /// <remarks>
    /// PBKDF2 is slow on purpose, so a key that was just verified is remembered for a short while
    /// (by a fast hash of its secret); revoking a key forgets it at once.
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
        if (key is null || !Verify(secret, key.SecretHash))
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
