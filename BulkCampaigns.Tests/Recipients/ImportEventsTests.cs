using System.Collections.Concurrent;
using System.Net.Http.Json;
using BulkCampaigns.Live;
using BulkCampaigns.Tests.Infrastructure;
using BulkCampaigns.Tests.Live;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BulkCampaigns.Tests.Recipients;

/// <summary>An app whose import job logs to a list the test reads, with every structured value kept.</summary>
public sealed class LoggedImportsAppFactory : AppFactory
{
    public ConcurrentQueue<(LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Values)> Entries { get; } = new();

    public LoggedImportsAppFactory() => Settings["Logging:LogLevel:BulkCampaigns.Recipients.CsvImportJob"] = "Information";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(new ListLoggerProvider(this)));
    }

    private sealed class ListLoggerProvider(LoggedImportsAppFactory owner) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => categoryName == "BulkCampaigns.Recipients.CsvImportJob" ? new ListLogger(owner) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void Dispose()
        {
        }
    }

    private sealed class ListLogger(LoggedImportsAppFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? pairs.ToDictionary(p => p.Key, p => p.Value) : [];
            owner.Entries.Enqueue((logLevel, formatter(state, exception), values));
        }
    }
}

public sealed class ImportLogTests(LoggedImportsAppFactory app) : IClassFixture<LoggedImportsAppFactory>
{
    private readonly HttpClient _client = app.CreateApiClient();

    private List<IReadOnlyDictionary<string, object?>> For(string importId) =>
        app.Entries.Where(e => Equals(e.Values.GetValueOrDefault("ImportId"), importId)).Select(e => e.Values).ToList();

    /// <summary>
    /// The import's structured lines once its closing line is there. The job writes that line just after it has stored
    /// the import's end, so a client can see the final state a moment before the line is written.
    /// </summary>
    private async Task<List<IReadOnlyDictionary<string, object?>>> LinesAsync(string importId)
    {
        await Wait.UntilAsync(() => For(importId).Count >= 2, "the import's closing log line", 10);
        return For(importId);
    }

    [Fact]
    public async Task An_import_logs_one_structured_line_when_it_starts_and_one_when_it_completes_with_its_counts()
    {
        var group = await _client.CreateGroupAsync("Logged");

        var import = await _client.ImportAsync(group, "phone,name\n2015550101,Ann\n2015550101,Ann again\n12ab,Bad\n");

        var lines = await LinesAsync(import.GetProperty("id").GetString()!);
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal(group, l["GroupId"]));
        Assert.Equal("upsert", lines[0]["Mode"]);
        var done = lines[1];
        Assert.Equal(3L, done["RowsRead"]);
        Assert.Equal(1L, done["Imported"]);
        Assert.Equal(1L, done["Duplicates"]);
        Assert.Equal(1L, done["Rejected"]);
        Assert.Equal(1L, done["RecipientCount"]);
    }

    [Fact]
    public async Task A_failed_import_logs_one_structured_line_with_its_reason()
    {
        var group = await _client.CreateGroupAsync("Logged failure");

        var import = await _client.ImportAsync(group, "phone,name\n2015550101,\"Ann\n2015550102,Bob\n");

        var lines = await LinesAsync(import.GetProperty("id").GetString()!);
        Assert.Equal(2, lines.Count);
        Assert.Equal(group, lines[1]["GroupId"]);
        Assert.Contains("quoted field that starts on line 2", (string)lines[1]["Reason"]!, StringComparison.Ordinal);
        Assert.Contains(app.Entries, e => e.Level == LogLevel.Warning && e.Values.GetValueOrDefault("ImportId") as string == import.GetProperty("id").GetString());
    }
}

public sealed class ImportLiveTests(LiveApp live) : IClassFixture<LiveApp>
{
    [Fact]
    public async Task An_import_tells_the_watchers_of_its_group_through_the_hub_when_it_ends()
    {
        using var http = live.App.CreateApiClient();
        var group = await http.CreateGroupAsync("Live import");
        await using var client = live.NewClient();
        var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var otherHeard = 0;
        var finished = false;
        await using var watch = await client.WatchAsync(LiveTopics.Imports(group), async () =>
        {
            var latest = await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"/v1/Groups/{group}");
            if (latest.GetProperty("recipientCount").GetInt64() == 2)
            {
                finished = true;
                heard.TrySetResult();
            }
        });
        await using var other = await client.WatchAsync(LiveTopics.Imports("grp_other"), () => { Interlocked.Increment(ref otherHeard); return Task.CompletedTask; });

        var response = await http.PostCsvAsync(group, "phone,name\n2015550101,Ann\n2015550102,Bob\n");
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);

        await heard.Task.WaitAsync(TimeSpan.FromSeconds(30)); // a bail-out: the change arrives in a fraction of a second
        Assert.True(finished);
        Assert.Equal(0, otherHeard);
    }
}
