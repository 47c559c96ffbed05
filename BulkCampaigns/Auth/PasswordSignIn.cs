using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Auth;

public enum SignInOutcome
{
    SignedIn,

    /// <summary>Unknown email, wrong password, or an account that may not sign in: one answer for all, on purpose.</summary>
    Refused,

    /// <summary>This client address has failed too often; nothing was checked.</summary>
    Throttled,
}

public sealed record SignInAnswer(SignInOutcome Outcome, TimeSpan RetryAfter = default);

/// <summary>Limits on failed sign-ins, bound from <c>Auth:SignIn</c>.</summary>
public sealed class SignInThrottleOptions
{
    /// <summary>Failures allowed for one email from one client address per window.</summary>
    public int FailuresPerAccountAndAddress { get; set; } = 5;

    /// <summary>Failures allowed from one client address (any emails) per window.</summary>
    public int FailuresPerAddress { get; set; } = 20;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>
/// Failed sign-ins are counted per (email, client address) and per client address, and only that address is
/// refused once it has used them up. Identity's account-wide lockout is not used: with it, anyone who knows a
/// colleague's email could lock them out from anywhere by typing wrong passwords. Here a guesser at one address
/// gets a few tries per account and a few dozen in all per window, while the real user, at their own address, still
/// signs in. Counting by the email as typed (not by the account) keeps the answer the same whether the account exists.
/// </summary>
/// <remarks>
/// Behind a reverse proxy every client has the proxy's address: set <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c>
/// so the client's own address (X-Forwarded-For) is the one counted.
/// </remarks>
public sealed class SignInThrottle(IOptions<SignInThrottleOptions> options, TimeProvider clock)
{
    internal FailureCounter PerAccountAndAddress { get; } = new(options.Value.FailuresPerAccountAndAddress, options.Value.Window, clock);
    internal FailureCounter PerAddress { get; } = new(options.Value.FailuresPerAddress, options.Value.Window, clock);
}

/// <summary>
/// Signs a person in with email and password so that an unknown email, a wrong password and a locked or
/// disallowed account look alike from outside: the same answer, and the same work (one password-hash verification).
/// </summary>
public sealed class PasswordSignIn(
    UserManager<AppUser> users,
    SignInManager<AppUser> signIn,
    IPasswordHasher<AppUser> hasher,
    SignInThrottle throttle)
{
    /// <summary>A hash of a random password, verified when no account has the email so that path costs what a real one does.</summary>
    private static readonly Lazy<string> DummyHash = new(() =>
        new PasswordHasher<AppUser>().HashPassword(new AppUser(), Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24))));

    public async Task<SignInAnswer> SignInAsync(string email, string password, string? clientAddress, bool isPersistent)
    {
        var address = clientAddress ?? "unknown";
        var accountKey = $"{email.Trim().ToUpperInvariant()}|{address}";
        if (throttle.PerAddress.IsBlocked(address, out var wait) || throttle.PerAccountAndAddress.IsBlocked(accountKey, out wait))
        {
            return new SignInAnswer(SignInOutcome.Throttled, wait);
        }

        var user = await users.FindByEmailAsync(email.Trim());
        bool passwordMatches;
        if (user is null)
        {
            hasher.VerifyHashedPassword(new AppUser(), DummyHash.Value, password);
            passwordMatches = false;
        }
        else
        {
            // The password is checked before the account's state, so a locked account costs the same as any other.
            passwordMatches = await users.CheckPasswordAsync(user, password);
        }

        if (user is not null && passwordMatches && await signIn.CanSignInAsync(user) && !await users.IsLockedOutAsync(user))
        {
            throttle.PerAccountAndAddress.Reset(accountKey);
            await signIn.SignInAsync(user, isPersistent);
            return new SignInAnswer(SignInOutcome.SignedIn);
        }
        throttle.PerAccountAndAddress.RecordFailure(accountKey);
        throttle.PerAddress.RecordFailure(address);
        return new SignInAnswer(SignInOutcome.Refused);
    }
}
