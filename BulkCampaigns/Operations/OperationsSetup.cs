using BulkCampaigns.Recipients;
using BulkCampaigns.Senders;

namespace BulkCampaigns.Operations;

public static class OperationsSetup
{
    /// <summary>
    /// Creating and controlling operations, and telling Recipients and Senders which groups and senders unfinished
    /// operations use. After <c>AddRecipients</c>, whose stand-in <see cref="IGroupUsage"/> this replaces.
    /// </summary>
    public static IServiceCollection AddOperations(this IServiceCollection services)
    {
        services.AddSingleton<OperationCreation>();
        services.AddSingleton<OperationService>();
        services.AddSingleton<ISenderUsage, OperationSenderUsage>();
        services.AddSingleton<IGroupUsage, OperationGroupUsage>();
        return services;
    }
}
