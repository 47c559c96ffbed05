using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using BulkCampaigns.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Auth;

/// <summary>HTTP Basic authentication with <c>apiKeySid:apiKeySecret</c>, as Twilio's API does.</summary>
public sealed class BasicApiKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyService apiKeys,
    ApiAuthThrottle throttle) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    /// <summary>Set when this client address has used up its failed attempts: the challenge answers 429, not 401.</summary>
    private TimeSpan? _retryAfter;

    private string ClientAddress => Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var header) ||
            !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return AuthenticateResult.NoResult();
        }
        // Checked before the credentials, so a guesser past the limit learns nothing, not even from a right guess.
        if (throttle.Failures.IsBlocked(ClientAddress, out var wait))
        {
            _retryAfter = wait;
            return AuthenticateResult.Fail("Too many failed authentications from this address.");
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            throttle.Failures.RecordFailure(ClientAddress);
            return AuthenticateResult.Fail("The Authorization header is not valid Base64.");
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throttle.Failures.RecordFailure(ClientAddress);
            return AuthenticateResult.Fail("Expected apiKeySid:apiKeySecret.");
        }
        var key = await apiKeys.ValidateAsync(decoded[..colon], decoded[(colon + 1)..], Context.RequestAborted);
        if (key is null)
        {
            throttle.Failures.RecordFailure(ClientAddress);
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, key.Sid), new Claim(ClaimTypes.Name, key.Name), new Claim(ClaimTypes.Role, key.Role)],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (_retryAfter is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await new ApiError(StatusCodes.Status429TooManyRequests, ApiError.Codes.TooManyRequests,
                $"Too many failed authentications from your address; wait {seconds} s (see Retry-After), then check the key's SID and secret.")
                .ToResult().ExecuteAsync(Context);
            return;
        }
        Response.Headers.WWWAuthenticate = "Basic realm=\"BulkCampaigns\", charset=\"UTF-8\"";
        await new ApiError(StatusCodes.Status401Unauthorized, ApiError.Codes.Unauthorized,
            "Authenticate with HTTP Basic: your API key's SID as the user name and its secret as the password. Keys are made under Settings.")
            .ToResult().ExecuteAsync(Context);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        await new ApiError(StatusCodes.Status403Forbidden, ApiError.Codes.Forbidden,
            "This API key's role may not do this. A Viewer key can only read; use a Marketer or Admin key.")
            .ToResult().ExecuteAsync(Context);
}

/// <summary>Limits on failed API authentications per client address, bound from <c>Api:AuthFailures</c>.</summary>
public sealed class ApiAuthThrottleOptions
{
    public int PerAddress { get; set; } = 30;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Counts failed API authentications per client address, so secrets cannot be guessed at the speed of the API's
/// own rate limit (which is per key and so never applies to callers without a valid one).
/// </summary>
public sealed class ApiAuthThrottle(Microsoft.Extensions.Options.IOptions<ApiAuthThrottleOptions> options, TimeProvider clock)
{
    internal FailureCounter Failures { get; } = new(options.Value.PerAddress, options.Value.Window, clock);
}
