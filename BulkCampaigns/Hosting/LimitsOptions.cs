namespace BulkCampaigns.Hosting;

/// <summary>Bound from <c>Limits</c>: how big groups, uploads and files may be, and how far ahead a send may be scheduled.</summary>
public sealed class LimitsOptions
{
    public const string Section = "Limits";

    public long MaxGroupRecipients { get; set; } = 1_000_000;
    public long MaxUploadBytes { get; set; } = 536_870_912;
    public int MaxColumns { get; set; } = 500;
    public int MaxCellChars { get; set; } = 10_000;
    public int MaxHeaderBytes { get; set; } = 1024 * 1024;
    public int MaxAttributeKeys { get; set; } = 500;

    /// <summary>Days ahead a <c>sendAt</c> may be.</summary>
    public int MaxScheduleDays { get; set; } = 365;
}
