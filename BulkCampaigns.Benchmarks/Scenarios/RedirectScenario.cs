using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace BulkCampaigns.Benchmarks.Scenarios;

/// <summary>
/// The short-link redirect on a warm server while a campaign sends: a campaign with tracked links is sent first (its
/// codes are what is clicked), then a second campaign (<c>--rows</c> recipients, default 100,000, at <c>--mps</c>, default
/// 5,000) is launched and, while it sends, <c>GET /l/{code}</c> is fired at <c>--rate</c> requests a second (default 200,
/// open loop: each request leaves at its time, whatever the others do) for <c>--seconds</c> (default 20), beside
/// <c>GET /healthz</c> at 20 a second. Printed: each one's p50, p99 and max, measured at the client, same run.
/// </summary>
public sealed partial class RedirectScenario : IScenario
{
    public string Name => "redirect";
    public string Description => "GET /l/{code} at 200/s while a campaign sends: p99 beside /healthz's p99 in the same run";

    private const string Sender = "+14155550100";

    [GeneratedRegex(@"/l/[A-Za-z0-9]{16}")]
    private static partial Regex ShortLink();

    public async Task<ScenarioResult> RunAsync(IReadOnlyDictionary<string, string> options, CancellationToken ct)
    {
        var rows = options.TryGetValue("rows", out var r) ? int.Parse(r, CultureInfo.InvariantCulture) : 100_000;
        var mps = options.TryGetValue("mps", out var m) ? int.Parse(m, CultureInfo.InvariantCulture) : 5_000;
        var rate = options.TryGetValue("rate", out var q) ? int.Parse(q, CultureInfo.InvariantCulture) : 200;
        var seconds = options.TryGetValue("seconds", out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : 20;
        var settings = AppProcess.ParseEnv(options);
        // One client address sends every request here: the per-address limit is lifted, as for a crowd of phones.
        settings["Links__PermitsPerSecond"] = "1000000";
        settings["Links__Burst"] = "1000000";
        var folder = Path.Combine(Path.GetTempPath(), "bulkcampaigns-bench", "redirect-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        try
        {
            using var app = AppProcess.Start(Path.Combine(folder, "app.db"), settings);
            using var client = app.ApiClient(TimeSpan.FromMinutes(5));
            await app.WaitHealthyAsync(client, ct);
            (await client.PostAsJsonAsync("/v1/Senders", new { address = Sender, channel = "SMS", mps }, ct)).EnsureSuccessStatusCode();

            // The clicked campaign: 2,000 recipients, two tracked links each.
            var clicked = await LaunchAsync(client, Enumerable.Range(0, 2_000).Select(i => new { address = $"+1202555{i:D4}", variables = new Dictionary<string, string> { ["code"] = $"C{i}" } }).ToArray(), ct);
            await WaitAsync(client, clicked, "COMPLETED", ct);
            var codes = new List<string>();
            string? next = "/v1/Simulator/Messages?pageSize=1000";
            while (next is not null)
            {
                var page = await client.GetFromJsonAsync<JsonElement>(next, ct);
                codes.AddRange(page.GetProperty("messages").EnumerateArray().SelectMany(x => ShortLink().Matches(x.GetProperty("body").GetString()!).Select(l => l.Value)));
                next = page.GetProperty("pagination").GetProperty("next").GetString();
            }
            Console.WriteLine($"{codes.Count:N0} short links to click");

            // The campaign that sends meanwhile: a group imported over the API.
            var csv = Path.Combine(folder, "recipients.csv");
            RealisticCsv.Write(csv, rows);
            var group = await ImportScenario.CreateGroupAsync(client, "Sending meanwhile", ct);
            await ImportScenario.ImportAsync(client, group, csv, ct);
            var sending = await LaunchGroupAsync(client, group, ct);
            await WaitAsync(client, sending, "PROCESSING", ct);
            var load = Harness.LoadAverage();

            using var probe = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = 512, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
            { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            // Warm: a second of each before measuring.
            await FireAsync(probe, codes, rate, 1, ct);
            var (redirects, healthz, wrong) = await FireAsync(probe, codes, rate, seconds, ct);
            var during = await client.GetFromJsonAsync<JsonElement>($"/v1/Messages/Operations/{sending}", ct);
            var stillSending = during.GetProperty("status").GetString() == "PROCESSING";
            await Task.Delay(1000, ct);
            var clickedOp = await client.GetFromJsonAsync<JsonElement>($"/v1/Messages/Operations/{clicked}", ct);
            var clicks = clickedOp.GetProperty("stats").GetProperty("clicks").GetInt64();

            string Line(string name, List<double> ms) => string.Create(CultureInfo.InvariantCulture,
                $"{name,-10} {ms.Count,6} requests  p50 {Percentile(ms, 0.50),6:0.00} ms  p99 {Percentile(ms, 0.99),6:0.00} ms  max {ms.Max(),7:0.00} ms");
            Console.WriteLine(Line("/l/{code}", redirects));
            Console.WriteLine(Line("/healthz", healthz));
            Console.WriteLine($"campaign still sending at the end: {stillSending}; clicks recorded {clicks:N0} of {redirects.Count + rate:N0} sent (warm-up included); wrong answers {wrong}; load {load} → {Harness.LoadAverage()}");
            var p99 = Percentile(redirects, 0.99);
            return Harness.Result(Name,
            [
                new Figure("redirect p99", p99, "ms", Target: "≤ 5 ms", Met: p99 <= 5),
                new Figure("redirect p50", Percentile(redirects, 0.50), "ms"),
                new Figure("/healthz p99 (same run)", Percentile(healthz, 0.99), "ms"),
                new Figure("/healthz p50 (same run)", Percentile(healthz, 0.50), "ms"),
            ], new Dictionary<string, string>
            {
                ["rate"] = rate.ToString(CultureInfo.InvariantCulture),
                ["seconds"] = seconds.ToString(CultureInfo.InvariantCulture),
                ["sending meanwhile"] = $"{rows:N0} rows at {mps:N0} MPS, still sending at the end: {stillSending}",
                ["clicks recorded"] = clicks.ToString(CultureInfo.InvariantCulture),
                ["wrong answers"] = wrong.ToString(CultureInfo.InvariantCulture),
            });
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Open loop: request i leaves at i / rate s; /healthz every tenth slot. Answers each one's milliseconds.</summary>
    private static async Task<(List<double> Redirects, List<double> Healthz, int Wrong)> FireAsync(HttpClient probe, List<string> codes, int rate, int seconds, CancellationToken ct)
    {
        var redirects = new List<double>();
        var healthz = new List<double>();
        var wrong = 0;
        var tasks = new List<Task>();
        var clock = Stopwatch.StartNew();
        var total = rate * seconds;
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds(i / (double)rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, ct);
            }
            var code = codes[i % codes.Count];
            tasks.Add(TimeAsync(probe, code, HttpStatusCode.Found, redirects));
            if (i % 10 == 0)
            {
                tasks.Add(TimeAsync(probe, "/healthz", HttpStatusCode.OK, healthz));
            }
        }
        await Task.WhenAll(tasks);
        return (redirects, healthz, wrong);

        async Task TimeAsync(HttpClient client, string path, HttpStatusCode expected, List<double> into)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, ct);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            lock (into)
            {
                into.Add(ms);
                if (response.StatusCode != expected)
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        }
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    private static async Task<string> LaunchAsync(HttpClient client, object[] to, CancellationToken ct) => await PostAsync(client, new
    {
        from = new { address = Sender, channel = "SMS" },
        to,
        content = new { text = "Your code {{code}}: https://shop.example/c/{{code}} (terms: https://shop.example/terms)", trackLinks = true },
    }, ct);

    private static async Task<string> LaunchGroupAsync(HttpClient client, string group, CancellationToken ct) => await PostAsync(client, new
    {
        from = new { address = Sender, channel = "SMS" },
        to = new[] { new { groupId = group } },
        content = new { text = RealisticCsv.Template + " https://shop.example/renew", trackLinks = true },
    }, ct);

    private static async Task<string> PostAsync(HttpClient client, object body, CancellationToken ct)
    {
        var response = await client.PostAsJsonAsync("/v1/Messages", body, ct);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"launch failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
        return response.Headers.GetValues("operationId").Single();
    }

    private static async Task WaitAsync(HttpClient client, string operation, string status, CancellationToken ct)
    {
        for (var i = 0; i < 6000; i++)
        {
            var op = await client.GetFromJsonAsync<JsonElement>($"/v1/Messages/Operations/{operation}", ct);
            if (op.GetProperty("status").GetString() == status || (status == "PROCESSING" && op.GetProperty("status").GetString() == "COMPLETED"))
            {
                return;
            }
            await Task.Delay(100, ct);
        }
        throw new TimeoutException($"{operation} never got {status}");
    }
}
