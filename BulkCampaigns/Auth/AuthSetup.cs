using BulkCampaigns.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace BulkCampaigns.Auth;

public static class AuthSetup
{
    /// <summary>Chooses per request: an Authorization header means an API key, otherwise the sign-in cookie.</summary>
    public const string ApiScheme = "Api";
    public const string ApiPolicy = "Api";
    public const string ApiWritePolicy = "ApiWrite";
    public const string AdminPolicy = "Admin";
    public const string WritePolicy = "Write";

    public static IServiceCollection AddAppAuth(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyService>();
        services.AddCascadingAuthenticationState();

        services.AddIdentityCore<AppUser>(o =>
            {
                o.User.RequireUniqueEmail = true;
                o.Password.RequiredLength = 8;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireLowercase = false;
                o.Password.RequireDigit = false;
                o.Lockout.MaxFailedAccessAttempts = 10;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<AppDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();

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
        app.MapPost("/logout", async (SignInManager<AppUser> signIn) =>
        {
            await signIn.SignOutAsync();
            return Results.LocalRedirect("~/login");
        }).RequireAuthorization();
        return app;
    }
}
