using BulkCampaigns.Recipients;

namespace BulkCampaigns.Operations;

/// <summary>A group is in use while an operation made from it is scheduled, processing or paused.</summary>
public sealed class OperationGroupUsage(BulkCampaigns.Data.DatabaseConnection database) : IGroupUsage
{
    private static readonly string InUseSql = $"""
        SELECT EXISTS (SELECT 1 FROM OperationGroups og JOIN Operations o ON o.Id = og.OperationId
                       WHERE og.GroupId = $g AND o.Status IN ({(int)OperationStatus.Scheduled}, {(int)OperationStatus.Processing}, {(int)OperationStatus.Paused}))
        """;

    public async Task<bool> IsInUseAsync(long groupId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = InUseSql;
        command.Parameters.AddWithValue("$g", groupId);
        return (long)(await command.ExecuteScalarAsync(ct))! == 1;
    }
}
