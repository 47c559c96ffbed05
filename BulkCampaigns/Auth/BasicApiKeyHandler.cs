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
    ApiKeyService apiKeys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var header) ||
            !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return AuthenticateResult.NoResult();
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return AuthenticateResult.Fail("The Authorization header is not valid Base64.");
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return AuthenticateResult.Fail("Expected apiKeySid:apiKeySecret.");
        }
        var key = await apiKeys.ValidateAsync(decoded[..colon], decoded[(colon + 1)..], Context.RequestAborted);
        if (key is null)
        {
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, key.Sid), new Claim(ClaimTypes.Name, key.Name), new Claim(ClaimTypes.Role, key.Role)],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
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
