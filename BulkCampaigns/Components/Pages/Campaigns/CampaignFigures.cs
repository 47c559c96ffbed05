using BulkCampaigns.Components.Shared;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
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

    /// <summary>A campaign's progress in a few words: how far it got, and for a canceled one how many went out before.</summary>
    public static string ProgressText(OperationView op) => op.Status == OperationStatus.Canceled
        ? $"Canceled after {Dispatched(op.Stats):N0} of {op.Stats.Total:N0} sent"
        : $"{Percent(op.Stats)}% of {op.Stats.Total:N0}";

    /// <summary>The share of the campaign handed to the provider: what a canceled campaign's bar shows.</summary>
    public static double DispatchedPercent(OperationStats s) => s.Total == 0 ? 0 : Math.Round(100.0 * Dispatched(s) / s.Total, 1);

    /// <summary>What the dashboard says about the time left, at <paramref name="rate"/> messages a second.</summary>
    public static string TimeLeft(OperationView op, double rate)
    {
        switch (op.Status)
        {
            case OperationStatus.Completed:
                return "Finished";
            case OperationStatus.Canceled:
                return $"Canceled: {Plural.Count(op.Stats.Canceled, "message", "messages")} not sent";
            case OperationStatus.Scheduled:
                return "Waiting for its start time";
            case OperationStatus.WaitingForWinner:
                return "Waiting for the A/B test's winner";
        }
        var remaining = op.Stats.Total - Done(op.Stats);
        return rate <= 0 || op.Status == OperationStatus.Paused
            ? "Time left: –"
            : "Time left: " + Duration(TimeSpan.FromSeconds(remaining / rate));
    }

    public static Color StatusColor(OperationStatus status) => status switch
    {
        OperationStatus.Processing or OperationStatus.WaitingForWinner => Color.Info,
        OperationStatus.Paused => Color.Warning,
        OperationStatus.Completed => Color.Success,
        OperationStatus.Canceled => Color.Default,
        _ => Color.Secondary,
    };

    public static string StatusText(OperationStatus status) => status == OperationStatus.WaitingForWinner ? "WAITING FOR WINNER" : status.ToString().ToUpperInvariant();

    public static string Duration(TimeSpan span) => span.TotalSeconds switch
    {
        < 1 => "under a second",
        < 60 => $"{span.TotalSeconds:0} s",
        < 3600 => $"{(int)span.TotalMinutes} min {span.Seconds:00} s",
        _ => $"{(int)span.TotalHours} h {span.Minutes:00} min",
    };
}
