using BulkCampaigns.Data;

namespace BulkCampaigns.Campaigns;

/// <summary>How many of the chosen groups' recipients a campaign would reach.</summary>
/// <param name="Recipients">All rows of the groups added up.</param>
/// <param name="Duplicates">Rows whose address is in more than one of the groups (each address is sent to once).</param>
/// <param name="Suppressed">Distinct addresses that opted out.</param>
public sealed record AudienceCount(long Recipients, long Duplicates, long Suppressed)
{
    public long WillReceive => Recipients - Duplicates - Suppressed;
}

public sealed class AudienceCounter(DatabaseConnection database)
{
    public async Task<AudienceCount> CountAsync(IReadOnlyList<string> groupIds, CancellationToken ct = default)
    {
        var ids = groupIds.Select(g => PublicId.TryDecode(PublicId.Group, g, out var id) ? id : 0).Where(id => id > 0).Distinct().ToList();
        if (ids.Count == 0)
        {
            return new AudienceCount(0, 0, 0);
        }
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        var names = ids.Select((_, i) => "$g" + i).ToList();
        for (var i = 0; i < ids.Count; i++)
        {
            command.Parameters.AddWithValue(names[i], ids[i]);
        }
        var inGroups = string.Join(", ", names);
        // One group needs no de-duplication: its addresses are unique already (and the count is kept on the group).
        command.CommandText = ids.Count == 1
            ? $"""
               SELECT (SELECT RecipientCount FROM Groups WHERE Id = $g0),
                      0,
                      (SELECT COUNT(*) FROM Recipients r JOIN Suppressions s ON s.Address = r.Address WHERE r.GroupId = $g0)
               """
            : $"""
               WITH addresses AS (SELECT DISTINCT Address FROM Recipients WHERE GroupId IN ({inGroups}))
               SELECT (SELECT COALESCE(SUM(RecipientCount), 0) FROM Groups WHERE Id IN ({inGroups})),
                      (SELECT COALESCE(SUM(RecipientCount), 0) FROM Groups WHERE Id IN ({inGroups})) - (SELECT COUNT(*) FROM addresses),
                      (SELECT COUNT(*) FROM addresses a JOIN Suppressions s ON s.Address = a.Address)
               """;
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new AudienceCount(reader.IsDBNull(0) ? 0 : reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}
