using BulkCampaigns.Dispatch;
using MudBlazor;

namespace BulkCampaigns.Components.Pages.Campaigns;

/// <summary>Figures the campaign pages derive from an operation's stored counts.</summary>
public static class CampaignFigures
{
    /// <summary>Messages handed to the provider (whatever became of them).</summary>
    public static long Dispatched(OperationStats s) => s.Sent + s.Delivered + s.Read + s.Undelivered + s.Failed + s.Unaddressable;

    /// <summary>Messages that need no more work: dispatched, canceled or suppressed.</summary>
    public static long Done(OperationStats s) => Dispatched(s) + s.Canceled + s.Suppressed;

    public static double Percent(OperationStats s) => s.Total == 0 ? 100 : Math.Round(100.0 * Done(s) / s.Total, 1);

    public static Color StatusColor(OperationStatus status) => status switch
    {
        OperationStatus.Processing => Color.Info,
        OperationStatus.Paused => Color.Warning,
        OperationStatus.Completed => Color.Success,
        OperationStatus.Canceled => Color.Default,
        _ => Color.Secondary,
    };

    public static string StatusText(OperationStatus status) => status.ToString().ToUpperInvariant();

    public static string Duration(TimeSpan span) => span.TotalSeconds switch
    {
        < 1 => "under a second",
        < 60 => $"{span.TotalSeconds:0} s",
        < 3600 => $"{(int)span.TotalMinutes} min {span.Seconds:00} s",
        _ => $"{(int)span.TotalHours} h {span.Minutes:00} min",
    };
}
