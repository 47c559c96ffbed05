using System.Collections.Concurrent;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Operating;

/// <summary>The app with its log lines of the operations' lives kept for the test to read.</summary>
public sealed class LoggedApp : AppFactory
{
    public LoggedApp()
    {
        UseExactSimulator(Settings);
        Settings["Logging:LogLevel:BulkCampaigns.Operating"] = "Information";
    }

    public ConcurrentQueue<(string Category, EventId Event, string Message, IReadOnlyDictionary<string, object?> Properties)> Lines { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(s => s.AddLogging(l => l.AddProvider(new Capture(this))));
    }

    private sealed class Capture(LoggedApp app) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(app, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(LoggedApp app, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var properties = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
                app.Lines.Enqueue((category, eventId, formatter(state, exception), properties.ToDictionary(p => p.Key, p => p.Value)));
            }
        }
    }
}

public sealed class OperationLogTests(LoggedApp app) : IClassFixture<LoggedApp>
{
    [Fact]
    public async Task An_operation_logs_one_structured_line_when_it_starts_and_one_when_it_completes_with_its_ID_and_name()
    {
        using var client = app.CreateApiClient();
        await CreateSenderAsync(client, "+14155550155", 1000);
        var id = await SendAsync(client, new
        {
            from = new { address = "+14155550155" },
            to = new[] { new { address = Number(8500) }, new { address = Number(8501) } },
            content = new { text = "Logged" },
            name = "Spring sale",
        });
        await WaitForStatusAsync(client, id, "COMPLETED");

        var lines = await LinesOfAsync(id, 2);
        Assert.Equal(["started", "completed"], lines.Select(Turn));
        Assert.All(lines, l => Assert.Equal("Spring sale", l.Properties["OperationName"]));
        Assert.Equal(2L, lines[1].Properties["Sent"]);
    }

    [Fact]
    public async Task Pausing_resuming_and_canceling_an_operation_each_log_one_line_with_its_ID_and_name()
    {
        using var client = app.CreateApiClient();
        await CreateSenderAsync(client, "+14155550154", 1000);
        var id = await SendAsync(client, new
        {
            from = new { address = "+14155550154" },
            to = new[] { new { address = Number(8600) } },
            content = new { text = "Controlled" },
            name = "Autumn news",
            schedule = new { sendAt = new[] { DateTimeOffset.UtcNow.AddHours(1).ToString("O") } },
        });

        foreach (var action in new[] { "Pause", "Resume", "Cancel" })
        {
            var response = await client.PostAsync($"/v1/Messages/Operations/{id}/{action}", null);
            Assert.True(response.IsSuccessStatusCode, $"{action}: {(int)response.StatusCode}");
        }

        var lines = await LinesOfAsync(id, 4);
        Assert.Equal(["scheduled", "paused", "resumed", "canceled"], lines.Select(Turn));
        Assert.All(lines, l => Assert.Equal("Autumn news", l.Properties["OperationName"]));
    }

    private async Task<List<(string Category, EventId Event, string Message, IReadOnlyDictionary<string, object?> Properties)>> LinesOfAsync(string id, int count)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var lines = app.Lines.Where(l => l.Properties.TryGetValue("OperationId", out var v) && Equals(v, id)).ToList();
            if (lines.Count >= count || DateTime.UtcNow > until)
            {
                Assert.Equal(count, lines.Count);
                Assert.All(lines, l => Assert.Equal("BulkCampaigns.Operating.OperationLog", l.Category));
                return lines;
            }
            await Task.Delay(50);
        }
    }

    private static string Turn((string Category, EventId Event, string Message, IReadOnlyDictionary<string, object?> Properties) line) =>
        line.Message.Split(')', 2)[1].TrimStart().Split(':', ',', ' ')[0];
}
