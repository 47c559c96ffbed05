using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;

namespace BulkCampaigns.Auth;

public sealed class AppUser : IdentityUser
{
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>The IANA time zone the user chose on their profile (null: the browser's).</summary>
    [MaxLength(64)]
    public string? TimeZoneId { get; set; }
}

public static class Roles
{
    public const string Admin = "Admin";
    public const string Marketer = "Marketer";
    public const string Viewer = "Viewer";

    public static readonly string[] All = [Admin, Marketer, Viewer];

    /// <summary>Roles that may change things (send, import, edit); a Viewer only reads.</summary>
    public const string Writers = Admin + "," + Marketer;
}
