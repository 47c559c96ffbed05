using MudBlazor;

namespace BulkCampaigns.Components.Shared;

/// <summary>Where notifications show and how long they stay.</summary>
public static class Notifications
{
    /// <summary>A success needs only a glance; errors and warnings keep MudBlazor's longer default so they can be read.</summary>
    public const int BriefMilliseconds = 2500;

    /// <summary>
    /// Bottom right: MudBlazor's top-right default covers the action buttons at the top right of every page
    /// (Save, Create group, Duplicate…) just after they were clicked.
    /// </summary>
    public static void Configure(SnackbarConfiguration configuration)
    {
        configuration.PositionClass = Defaults.Classes.Position.BottomRight;
        configuration.ShowCloseIcon = true;
    }

    /// <summary>Pass to <c>Snackbar.Add</c> for a success, so it leaves soon.</summary>
    public static void Brief(SnackbarOptions options) => options.VisibleStateDuration = BriefMilliseconds;
}
