using BulkCampaigns.Data;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;

namespace BulkCampaigns.Auth;

public static class AuthSetup
{
    /// <summary>Chooses per request: an Authorization header means an API key, otherwise the sign-in cookie.</summary>
    public const string ApiScheme = "Api";
    public const string ApiPolicy = "Api";
    public const string ApiWritePolicy = "ApiWrite";
    public const string AdminPolicy = "Admin";

    /// <summary>An admin's API key (or an admin's sign-in cookie with the API's header).</summary>
    public const string ApiAdminPolicy = "ApiAdmin";
    public const string WritePolicy = "Write";

    public static IServiceCollection AddAppAuth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<ApiKeyService>();
        services.AddCascadingAuthenticationState();
        services.Configure<SignInThrottleOptions>(configuration.GetSection("Auth:SignIn"));
        services.AddSingleton<SignInThrottle>();
        services.AddScoped<PasswordSignIn>();
        services.AddScoped<FirstAdminSetup>();
        services.Configure<ApiAuthThrottleOptions>(configuration.GetSection("Api:AuthFailures"));
        services.AddSingleton<ApiAuthThrottle>();

        // Over https the antiforgery cookie is marked Secure (Identity's sign-in cookie already is, SameAsRequest).
        services.AddAntiforgery(o => o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);

        services.AddIdentityCore<AppUser>(o =>
            {
                o.User.RequireUniqueEmail = true;
                PasswordRules.Apply(o.Password);
                // Failed sign-ins are throttled per client address (SignInThrottle), not by locking the account:
                // an account-wide lockout lets anyone lock a colleague out. An admin can still lock an account.
                o.Lockout.AllowedForNewUsers = true;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<AppDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders()
            .AddErrorDescriber<AppIdentityErrors>();

        services.AddAuthentication(IdentityConstants.ApplicationScheme)
            .AddIdentityCookies(cookies => cookies.ApplicationCookie?.Configure(o =>
            {
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
                o.AccessDeniedPath = "/forbidden";
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = TimeSpan.FromDays(7);
                o.Cookie.Name = "bulkcampaigns.auth";
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                // Machines (the hub, the API) are told 401/403; only people are sent to the sign-in page.
                o.Events.OnRedirectToLogin = ctx => AnswerOrRedirect(ctx, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = ctx => AnswerOrRedirect(ctx, StatusCodes.Status403Forbidden);
            }));
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, BasicApiKeyHandler>(BasicApiKeyHandler.SchemeName, null)
            .AddPolicyScheme(ApiScheme, "API key or sign-in cookie", o =>
            {
                o.ForwardDefaultSelector = ctx => ctx.Request.Headers.Authorization.Count > 0
                    ? BasicApiKeyHandler.SchemeName
                    : IdentityConstants.ApplicationScheme;
                // An API caller without credentials is told to use Basic, never redirected to a login page.
                o.ForwardChallenge = BasicApiKeyHandler.SchemeName;
                o.ForwardForbid = BasicApiKeyHandler.SchemeName;
            });

        services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicy, p => p.AddAuthenticationSchemes(ApiScheme).RequireAuthenticatedUser())
            .AddPolicy(ApiWritePolicy, p => p.AddAuthenticationSchemes(ApiScheme).RequireRole(Roles.Admin, Roles.Marketer))
            .AddPolicy(ApiAdminPolicy, p => p.AddAuthenticationSchemes(ApiScheme).RequireRole(Roles.Admin))
            .AddPolicy(AdminPolicy, p => p.RequireRole(Roles.Admin))
            .AddPolicy(WritePolicy, p => p.RequireRole(Roles.Admin, Roles.Marketer));
        return services;
    }

    private static Task AnswerOrRedirect(Microsoft.AspNetCore.Authentication.RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.Path.StartsWithSegments("/hubs") || context.Request.Path.StartsWithSegments("/v1"))
        {
            context.Response.StatusCode = status;
        }
        else
        {
            context.Response.Redirect(context.RedirectUri);
        }
        return Task.CompletedTask;
    }

    public static IEndpointRouteBuilder MapAuthEndpoints(this IEndpointRouteBuilder app)
    {
        // A sign-out must come from the app's own form: without the antiforgery check any site could sign a user out.
        // (Minimal APIs only check the token themselves for endpoints that read a form; this one reads none.)
        app.MapPost("/logout", async (HttpContext http, IAntiforgery antiforgery, SignInManager<AppUser> signIn) =>
        {
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Results.Text("This sign-out request did not come from the app's own page. Reload the page and press Sign out again.",
                    statusCode: StatusCodes.Status400BadRequest);
            }
            await signIn.SignOutAsync();
            return Results.LocalRedirect("~/login");
        }).RequireAuthorization();
        return app;
    }
}
