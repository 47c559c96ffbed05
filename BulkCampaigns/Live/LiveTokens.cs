using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Live;

/// <summary>
/// A Blazor circuit connects to the hub from the server, where the browser's sign-in cookie is not at hand
/// (the hub sees the server, not the browser). The circuit asks for a short-lived token for its signed-in user instead; the token
/// is protected with the app's data-protection keys, so any node sharing those keys accepts it.
/// </summary>
public sealed class LiveTokens(IDataProtectionProvider protection, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);
    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector("BulkCampaigns.LiveHub").ToTimeLimitedDataProtector();

    public string Issue(ClaimsPrincipal user)
    {
        var name = user.Identity?.Name ?? throw new InvalidOperationException("Only a signed-in user gets a live token.");
        return _protector.Protect(name, clock.GetUtcNow().Add(Lifetime));
    }

    public string? Validate(string token)
    {
        try
        {
            return _protector.Unprotect(token, out var expiration) is { Length: > 0 } name && expiration > clock.GetUtcNow() ? name : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }
}

/// <summary>Reads the live token from <c>access_token</c> (how SignalR clients send it) on the hub's path.</summary>
public sealed class LiveTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    LiveTokens tokens) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "LiveToken";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Path.StartsWithSegments(LiveHub.Path))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        var token = Request.Query["access_token"].ToString();
        if (token.Length == 0 && Request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            token = header["Bearer ".Length..];
        }
        if (token.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        var name = tokens.Validate(token);
        if (name is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("The live token is not valid or has expired."));
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
