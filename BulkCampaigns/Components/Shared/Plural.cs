namespace BulkCampaigns.Components.Shared;

/// <summary>Counts with their noun in the right number: "1 recipient", "2 recipients", "1,000 recipients".</summary>
public static class Plural
{
    public static string Count(long count, string one, string many) => $"{count:N0} {(count == 1 ? one : many)}";

    /// <summary>Just the noun, for sentences that show the count elsewhere.</summary>
    public static string Noun(long count, string one, string many) => count == 1 ? one : many;
}
