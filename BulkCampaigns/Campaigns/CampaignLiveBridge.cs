using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Live;

namespace BulkCampaigns.Campaigns;

/// <summary>Carries the dispatch engine's progress notices to the hub, where every node's dashboards hear them.</summary>
public sealed class CampaignLiveBridge(OperationProgress progress, LivePublisher publisher) : IHostedService
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = progress.Subscribe(operationId =>
        {
            publisher.Changed(LiveTopics.Operation(PublicId.Encode(PublicId.Operation, operationId)));
            publisher.Changed(LiveTopics.Operations);
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        return Task.CompletedTask;
    }
}
