using BulkCampaigns.Data;
using BulkCampaigns.Hosting;
using BulkCampaigns.Suppressions;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Recipients;

public static class RecipientsSetup
{
    /// <summary>Groups, imports and suppressions: their services, the import job and the start-up step that resumes imports.</summary>
    public static IServiceCollection AddRecipients(this IServiceCollection services)
    {
        services.AddSingleton(sp => RecipientOptions.From(sp.GetRequiredService<IOptions<LimitsOptions>>().Value,
            sp.GetRequiredService<IOptions<MessagingOptions>>().Value, sp.GetRequiredService<DatabaseConnection>()));
        services.AddSingleton<GroupService>();
        services.AddSingleton<Segments.ISegmentStore>(sp => sp.GetRequiredService<DatabaseConnection>().IsPostgres
            ? new Segments.PostgresSegmentStore(sp.GetRequiredService<Npgsql.NpgsqlDataSource>())
            : ActivatorUtilities.CreateInstance<Segments.SqliteSegmentStore>(sp));
        services.AddSingleton<Segments.SegmentService>();
        services.AddSingleton<ImportService>();
        services.AddTransient<CsvImportJob>();
        services.TryAddSingleton<SuppressionService>();
        // The dispatch feature replaces this to say which groups unfinished operations use.
        services.TryAddSingleton<IGroupUsage, NoGroupUsage>();
        services.AddHostedService<ImportRecovery>();
        return services;
    }

    public static RouteGroupBuilder MapRecipientsApi(this RouteGroupBuilder v1)
    {
        GroupsApi.Map(v1);
        Segments.SegmentsApi.Map(v1);
        return v1;
    }
}

/// <summary>Tells whether an unfinished operation still needs a group, so it can't be deleted under it.</summary>
public interface IGroupUsage
{
    Task<bool> IsInUseAsync(long groupId, CancellationToken ct);
}

internal sealed class NoGroupUsage : IGroupUsage
{
    public Task<bool> IsInUseAsync(long groupId, CancellationToken ct) => Task.FromResult(false);
}
