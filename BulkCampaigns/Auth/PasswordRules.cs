using Microsoft.AspNetCore.Identity;

namespace BulkCampaigns.Auth;

/// <summary>
/// What every password must be, wherever it is set (first-run setup, the users panel, <c>Bootstrap:AdminPassword</c>):
/// length is what makes a password hard to guess, so at least 12 characters and not one character repeated.
/// </summary>
public static class PasswordRules
{
    public const int MinLength = 12;
    public const int MinUniqueChars = 4;
    public const string Requirement = "Use at least 12 characters (a few words strung together make a good password).";

    public static void Apply(PasswordOptions options)
    {
        options.RequiredLength = MinLength;
        options.RequiredUniqueChars = MinUniqueChars;
        options.RequireNonAlphanumeric = false;
        options.RequireUppercase = false;
        options.RequireLowercase = false;
        options.RequireDigit = false;
    }
}

/// <summary>Identity's password messages in the app's plain words.</summary>
public sealed class AppIdentityErrors : IdentityErrorDescriber
{
    public override IdentityError PasswordTooShort(int length) =>
        new() { Code = nameof(PasswordTooShort), Description = $"The password is too short. {PasswordRules.Requirement}" };

    public override IdentityError PasswordRequiresUniqueChars(int uniqueChars) =>
        new() { Code = nameof(PasswordRequiresUniqueChars), Description = $"The password needs at least {uniqueChars} different characters." };

    // A user's name is their email: both refusals come together and say the same, once (Bootstrap.Describe).
    public override IdentityError DuplicateUserName(string userName) =>
        new() { Code = nameof(DuplicateUserName), Description = Taken(userName) };

    public override IdentityError DuplicateEmail(string email) =>
        new() { Code = nameof(DuplicateEmail), Description = Taken(email) };

    private static string Taken(string email) =>
        $"There is already a user with the email {email}: change their role in the list, or use another email.";
}
