using System.Diagnostics.Metrics;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Dispatch.Providers;
using BulkCampaigns.Hosting;
using Microsoft.Extensions.Options;

namespace BulkCampaigns.Operating;

/// <summary>
/// The app's own instruments, served at <c>/metrics</c> (README, Operating it, lists them by their Prometheus names).
/// Totals that the database already keeps (messages by status, import rows) are read from it at scrape time, so they
/// are right across restarts and several nodes; what only this process sees (provider calls, batches running) is
/// counted here.
/// </summary>
public sealed class Metrics
{
    public const string MeterName = "BulkCampaigns";

    private static readonly string[] StatusNames = Enum.GetNames<MessageStatus>().Select(n => n.ToLowerInvariant()).ToArray();
    private static readonly string[] OutcomeNames = Enum.GetNames<SendOutcome>().Select(n => n.ToLowerInvariant()).ToArray();

    private readonly DatabaseConnection _database;
    private readonly ILogger<Metrics> _log;
    private readonly KeyValuePair<string, object?> _provider;
    private readonly Counter<long> _sends;
    private readonly Histogram<double> _latency;

    public Metrics(IMeterFactory meters, DatabaseConnection database, ActiveBatches batches, IOptions<MessagingOptions> messaging, ILogger<Metrics> log)
    {
        _database = database;
        _log = log;
        _provider = new("provider", messaging.Value.Provider.ToLowerInvariant());
        var meter = meters.Create(MeterName);
        _sends = meter.CreateCounter<long>("bulkcampaigns.sends", "{message}",
            "Messages handed to the provider, by the provider's answer (accepted, transient, failed, unaddressable, unsubscribed); its rate is sends per second.");
        _latency = meter.CreateHistogram<double>("bulkcampaigns.provider.duration", "s",
            "How long one call to the provider took (one chunk of messages).", advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
            });
        meter.CreateObservableUpDownCounter("bulkcampaigns.batches.in_flight", () => batches.Count, "{batch}",
            "Batch jobs of this process sending now.");
        meter.CreateObservableGauge("bulkcampaigns.messages", ObserveMessages, "{message}",
            "Messages of all operations by status (the operations' counters).");
        meter.CreateObservableCounter("bulkcampaigns.import.rows", ObserveImportRows, "{row}",
            "CSV rows read by imports, by outcome (imported, updated, duplicate, rejected).");
    }

    /// <summary>One provider call: its duration and what the provider said about each message.</summary>
    public void ProviderCall(TimeSpan duration, IReadOnlyList<SendResult> results)
    {
        _latency.Record(duration.TotalSeconds, _provider);
        Span<long> counts = stackalloc long[OutcomeNames.Length];
        foreach (var r in results)
        {
            counts[(int)r.Outcome]++;
        }
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] > 0)
            {
                _sends.Add(counts[i], _provider, new("outcome", OutcomeNames[i]));
            }
        }
    }

    private IEnumerable<Measurement<long>> ObserveMessages()
    {
        var row = Query("""
            SELECT SUM("Scheduled"), SUM("Queued"), SUM("Sending"), SUM("Sent"), SUM("Delivered"), SUM("Read"), SUM("Undelivered"),
                   SUM("Unaddressable"), SUM("Failed"), SUM("Canceled"), SUM("Suppressed") FROM "Operations"
            """);
        return row is null ? [] : row.Select((value, i) => new Measurement<long>(value, _provider, new("status", StatusNames[i])));
    }

    private IEnumerable<Measurement<long>> ObserveImportRows()
    {
        var row = Query("""SELECT SUM("Imported"), SUM("Updated"), SUM("Duplicates"), SUM("Rejected") FROM "Imports" """);
        string[] outcomes = ["imported", "updated", "duplicate", "rejected"];
        return row is null ? [] : row.Select((value, i) => new Measurement<long>(value, new KeyValuePair<string, object?>("outcome", outcomes[i])));
    }

    /// <summary>One row of sums; null (and nothing reported) when the database can't be read now.</summary>
    private long[]? Query(string sql)
    {
        try
        {
            // Observable instruments are read synchronously by the exporter; these are sums over small tables.
            // Quoted names: the same statement reads SQLite and PostgreSQL (whose sums of bigint are numeric, hence ToInt64).
            using var connection = _database.CreateConnection();
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            using var reader = command.ExecuteReader();
            reader.Read();
            var values = new long[reader.FieldCount];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = reader.IsDBNull(i) ? 0 : Convert.ToInt64(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);
            }
            return values;
        }
        catch (System.Data.Common.DbException ex)
        {
            _log.LogWarning(ex, "Could not read the database for the metrics");
            return null;
        }
    }
}
