using Microsoft.AspNetCore.Identity;

namespace BulkCampaigns.Auth;

/// <summary>
/// Start-up step: makes the roles, and the admin user and API key named by <c>Bootstrap:*</c>
/// so an operator can start a working instance with no clicks.
/// </summary>
public static class Bootstrap
{
    public static async Task RunAsync(IServiceProvider services, IConfiguration configuration, ILogger logger, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in Roles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                await roles.CreateAsync(new IdentityRole(role));
            }
        }

        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var email = configuration["Bootstrap:AdminEmail"];
        var password = configuration["Bootstrap:AdminPassword"];
        if (!string.IsNullOrWhiteSpace(email) && !string.IsNullOrEmpty(password) && !users.Users.Any())
        {
            var result = await CreateUserAsync(users, email, password, Roles.Admin);
            if (!result.Succeeded)
            {
                // Starting without the admin the operator asked for would leave the first-run page open to anyone.
                var errors = Describe(result);
                throw new InvalidOperationException($"Bootstrap:AdminEmail / Bootstrap:AdminPassword cannot be used: {errors} Fix the settings and start again.");
            }
            logger.LogInformation("Created the admin {Email} from Bootstrap settings", email);
        }

        var sid = configuration["Bootstrap:ApiKeySid"];
        var secret = configuration["Bootstrap:ApiKeySecret"];
        if (!string.IsNullOrWhiteSpace(sid) && !string.IsNullOrEmpty(secret) &&
            await scope.ServiceProvider.GetRequiredService<ApiKeyService>().EnsureAsync(sid, secret, "Bootstrap key", Roles.Admin, ct))
        {
            logger.LogInformation("Created the API key {Sid} from Bootstrap settings", sid);
        }
    }

    /// <summary>What was refused, each reason once, for the person who asked.</summary>
    public static string Describe(IdentityResult result) => string.Join(" ", result.Errors.Select(e => e.Description).Distinct(StringComparer.Ordinal));

    public static async Task<IdentityResult> CreateUserAsync(UserManager<AppUser> users, string email, string password, string role)
    {
        var user = new AppUser { UserName = email.Trim(), Email = email.Trim(), EmailConfirmed = true };
        var result = await users.CreateAsync(user, password);
        if (result.Succeeded)
        {
            result = await users.AddToRoleAsync(user, role);
        }
        return result;
    }
}
