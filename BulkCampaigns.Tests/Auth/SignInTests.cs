using System.Net;
using System.Text.RegularExpressions;
using BulkCampaigns.Auth;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Auth;

/// <summary>
/// The sign-in form must not tell which emails have accounts (by its answer or by how much work it does),
/// and a stranger's wrong guesses must not lock the real user out.
/// </summary>
public sealed partial class SignInTests(SignInTests.CountingApp app) : IClassFixture<SignInTests.CountingApp>
{
    private const string LockedEmail = "locked.marketer@example.com";
    private const string LockedPassword = "locked-marketer-pass";

    [Fact]
    public async Task An_unknown_email_a_wrong_password_and_a_locked_account_get_the_same_answer()
    {
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            if (await users.FindByEmailAsync(LockedEmail) is null)
            {
                await Bootstrap.CreateUserAsync(users, LockedEmail, LockedPassword, Roles.Marketer);
            }
            await users.SetLockoutEndDateAsync((await users.FindByEmailAsync(LockedEmail))!, DateTimeOffset.UtcNow.AddDays(30));
        }

        var unknown = await FormPosts.SignInAsync(app, "nobody.here@example.com", "some-password-1", "192.0.2.11");
        var wrongPassword = await FormPosts.SignInAsync(app, AppFactory.AdminEmail, "some-password-1", "192.0.2.12");
        var locked = await FormPosts.SignInAsync(app, LockedEmail, LockedPassword, "192.0.2.13");

        Assert.Equal(unknown.StatusCode, wrongPassword.StatusCode);
        Assert.Equal(unknown.StatusCode, locked.StatusCode);
        Assert.False(FormPosts.SetsAuthCookie(locked));
        var unknownBody = await Normalized(unknown, "nobody.here@example.com");
        Assert.Contains("don't match", FormPosts.Alert(unknownBody), StringComparison.Ordinal);
        Assert.Equal(unknownBody, await Normalized(wrongPassword, AppFactory.AdminEmail));
        Assert.Equal(unknownBody, await Normalized(locked, LockedEmail));
    }

    [Fact]
    public async Task An_unknown_email_costs_a_password_hash_verification_like_a_wrong_password()
    {
        var before = app.Hasher.Verifications;
        await FormPosts.SignInAsync(app, "nobody.at.all@example.com", "some-password-2", "192.0.2.21");
        var forUnknown = app.Hasher.Verifications - before;

        before = app.Hasher.Verifications;
        await FormPosts.SignInAsync(app, AppFactory.AdminEmail, "some-password-2", "192.0.2.22");
        var forWrongPassword = app.Hasher.Verifications - before;

        Assert.Equal(1, forWrongPassword);
        Assert.Equal(forWrongPassword, forUnknown);
    }

    [Fact]
    public async Task A_flood_of_wrong_passwords_from_one_address_is_refused_there_while_the_user_still_signs_in_from_elsewhere()
    {
        const string attacker = "203.0.113.66";
        for (var i = 0; i < 12; i++)
        {
            var guess = await FormPosts.SignInAsync(app, AppFactory.AdminEmail, $"guess-number-{i}", attacker);
            Assert.False(FormPosts.SetsAuthCookie(guess));
        }

        // The real user, at their own address, is not locked out...
        var fromUser = await FormPosts.SignInAsync(app, AppFactory.AdminEmail, AppFactory.AdminPassword, "198.51.100.7");
        Assert.Equal(HttpStatusCode.Redirect, fromUser.StatusCode);
        Assert.True(FormPosts.SetsAuthCookie(fromUser));

        // ...while even the right password is refused from the flooding address.
        var fromAttacker = await FormPosts.SignInAsync(app, AppFactory.AdminEmail, AppFactory.AdminPassword, attacker);
        Assert.False(FormPosts.SetsAuthCookie(fromAttacker));
        Assert.Contains("Too many failed sign-ins", FormPosts.Alert(await fromAttacker.Content.ReadAsStringAsync()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Guessing_many_emails_from_one_address_is_refused_after_the_address_limit()
    {
        const string sprayer = "203.0.113.77";
        for (var i = 0; i < 20; i++)
        {
            await FormPosts.SignInAsync(app, $"someone{i}@example.com", "Winter2026-pass", sprayer);
        }

        var next = await FormPosts.SignInAsync(app, AppFactory.AdminEmail, AppFactory.AdminPassword, sprayer);

        Assert.False(FormPosts.SetsAuthCookie(next));
        Assert.Contains("Too many failed sign-ins", FormPosts.Alert(await next.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.True(FormPosts.SetsAuthCookie(await FormPosts.SignInAsync(app, AppFactory.AdminEmail, AppFactory.AdminPassword, "198.51.100.8")));
    }

    [Fact]
    public async Task A_wrong_password_is_not_sent_back_into_the_form()
    {
        var response = await FormPosts.SignInAsync(app, AppFactory.AdminEmail, "my-secret-typo-42", "192.0.2.31");

        var html = await response.Content.ReadAsStringAsync();
        Assert.NotNull(FormPosts.Alert(html));
        Assert.DoesNotContain("my-secret-typo-42", html, StringComparison.Ordinal);
        Assert.Contains(AppFactory.AdminEmail, html, StringComparison.Ordinal); // the email stays, to fix a typo
    }

    /// <summary>The page with what differs by nature (antiforgery tokens, the email typed) taken out.</summary>
    private static async Task<string> Normalized(HttpResponseMessage response, string email)
    {
        var html = await response.Content.ReadAsStringAsync();
        html = FormPosts.TokenPattern().Replace(html, "name=\"__RequestVerificationToken\" value=\"TOKEN\"");
        html = html.Replace(email, "EMAIL", StringComparison.Ordinal);
        return BlazorMarkers().Replace(html, "<!--Blazor-->");
    }

    /// <summary>Blazor's SSR comments carry per-render ids and encrypted (so always different) component state.</summary>
    [GeneratedRegex("<!--Blazor[^>]*-->")]
    private static partial Regex BlazorMarkers();

    /// <summary>An app behind a proxy (client addresses from X-Forwarded-For) whose password hasher counts verifications.</summary>
    public sealed class CountingApp : ForwardedAppFactory
    {
        public CountingHasher Hasher { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IPasswordHasher<AppUser>>(Hasher));
        }
    }

    public sealed class CountingHasher : IPasswordHasher<AppUser>
    {
        private readonly PasswordHasher<AppUser> _inner = new();
        private long _verifications;

        public long Verifications => Interlocked.Read(ref _verifications);

        public string HashPassword(AppUser user, string password) => _inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(AppUser user, string hashedPassword, string providedPassword)
        {
            Interlocked.Increment(ref _verifications);
            return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }
}
