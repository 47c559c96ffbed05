using System.Threading.Channels;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Links;

/// <summary>
/// Clicks on their way to the database, off the redirect's path: the redirect only enqueues, and
/// <see cref="ClickWriter"/> writes what has gathered in rounds (on SQLite as a background writer, after the sends).
/// </summary>
public sealed class ClickQueue(IOptions<LinkOptions> options, ILogger<ClickQueue> log)
{
    private readonly Channel<ClickRecord> _channel = Channel.CreateBounded<ClickRecord>(new BoundedChannelOptions(Math.Max(1, options.Value.QueueCapacity))
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private long _dropped;

    internal ChannelReader<ClickRecord> Reader => _channel.Reader;

    public void Add(ClickRecord click)
    {
        if (!_channel.Writer.TryWrite(click))
        {
            // Full (the database far behind): the visitor is still redirected; the click is not counted, and it is said.
            if (Interlocked.Increment(ref _dropped) % 1000 == 1)
            {
                log.LogWarning("The click queue is full ({Capacity}); {Dropped} clicks were not counted so far.", options.Value.QueueCapacity, _dropped);
            }
        }
    }

    internal void Complete() => _channel.Writer.TryComplete();
}

/// <summary>Writes queued clicks in rounds, one transaction each, and tells the dashboards.</summary>
public sealed class ClickWriter(ClickQueue queue, IEngineStore store, OperationProgress progress, IOptions<LinkOptions> options, ILogger<ClickWriter> log) : BackgroundService
{
    private const int MaxRound = 5_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = queue.Reader;
        var round = new List<ClickRecord>(MaxRound);
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                // Gather a moment's clicks, so a burst is one write rather than one each.
                await Task.Delay(Math.Max(0, options.Value.FlushIntervalMs), stoppingToken);
                await DrainAsync(reader, round, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // Stopping: what came in is still written.
        await DrainAsync(reader, round, CancellationToken.None);
    }

    private async Task DrainAsync(System.Threading.Channels.ChannelReader<ClickRecord> reader, List<ClickRecord> round, CancellationToken ct)
    {
        while (true)
        {
            round.Clear();
            while (round.Count < MaxRound && reader.TryRead(out var click))
            {
                round.Add(click);
            }
            if (round.Count == 0)
            {
                return;
            }
            if (!await WriteAsync(round, ct))
            {
                return;
            }
        }
    }

    /// <summary>
    /// One round, tried again a few times: a round is one transaction, so one that failed (chosen as a deadlock's
    /// victim on PostgreSQL, the database away for a moment) wrote nothing and is whole to write again.
    /// </summary>
    private async Task<bool> WriteAsync(List<ClickRecord> round, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                progress.Publish(await store.RecordClicksAsync(round, ct));
                return true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && attempt < WriteAttempts)
            {
                log.LogWarning("{Count} clicks could not be written ({Reason}); trying again", round.Count, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(250 * (1 << attempt)), ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogError(ex, "{Count} clicks could not be written after {Attempts} tries; they are not counted.", round.Count, WriteAttempts);
                return false;
            }
        }
    }

    private const int WriteAttempts = 5;
}
