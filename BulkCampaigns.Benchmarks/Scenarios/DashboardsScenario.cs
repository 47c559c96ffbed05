using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace BulkCampaigns.Benchmarks.Scenarios;

/// <summary>
/// The product's speed target: on the campaign dashboard a status change is visible in the browser ≤ 1 s later, with
/// ≤ 4 renders per second per open dashboard, also for many dashboards open at once. One operation paced by
/// its sender's MPS runs for a while; N pages of one signed-in Chromium context show its dashboard. A
/// MutationObserver in each page records when its Sent and Delivered tiles changed and to what; the API is
/// polled meanwhile as the server's truth. Lag = for each value v the API reported, the time the page first
/// showed at least v minus the time of the API request that first saw v. "Sent" is compared as sent +
/// delivered, which only grows (a delivered message leaves the Sent tile). <c>--raw file</c> keeps every sample.
/// </summary>
public sealed class DashboardsScenario : IScenario
{
    private const string AdminEmail = "bench@example.com";
    private const string AdminPassword = "Bench-password-1";
    private const string From = "+14155550100";
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    // Installed in each page once its circuit is up. One observer callback is one batch of DOM changes
    // (a Blazor render batch is applied in one go); the counts are read at each and kept when they changed.
    private const string InstallObserver = """
        () => {
            const read = id => {
                const el = document.querySelector(`[data-testid=count-${id}]`);
                return el ? Number(el.textContent.replace(/\D/g, '')) : -1;
            };
            const rec = window.__bench = { installed: Date.now(), visibility: document.visibilityState, batches: [], changes: [] };
            const snap = t => {
                const sent = read('sent'), delivered = read('delivered');
                const last = rec.changes[rec.changes.length - 1];
                if (!last || last.sent !== sent || last.delivered !== delivered) rec.changes.push({ t, sent, delivered });
            };
            snap(rec.installed);
            new MutationObserver(() => { const t = Date.now(); rec.batches.push(t); snap(t); })
                .observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
        }
        """;

    public string Name => "dashboards";
    public string Description => "N dashboards in Chromium on a paced operation: status change → visible, renders/s per page";

    public async Task<ScenarioResult> RunAsync(IReadOnlyDictionary<string, string> options, CancellationToken ct)
    {
        var pageCount = Option(options, "pages", 20);
        var recipients = Option(options, "recipients", 3_500);
        var mps = Option(options, "mps", 100);
        var deliveryDelayMs = Option(options, "delivery-delay-ms", 1_000);
        if (recipients is < 1 or > 10_000)
        {
            throw new ArgumentException("--recipients is one request's inline recipients: 1 to 10,000.");
        }
        var folder = Path.Combine(Path.GetTempPath(), "bulkcampaigns-bench", "dashboards-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            Console.Error.WriteLine("publishing the app …");
            var published = await AppProcess.PublishAsync(ct);
            using var app = AppProcess.Start(Path.Combine(folder, "app.db"), new Dictionary<string, string>
            {
                ["Bootstrap__AdminEmail"] = AdminEmail,
                ["Bootstrap__AdminPassword"] = AdminPassword,
                ["Messaging__Simulated__DeliveryDelayMs"] = deliveryDelayMs.ToString(CultureInfo.InvariantCulture),
            }, published);
            using var client = app.ApiClient(TimeSpan.FromMinutes(1));
            await app.WaitHealthyAsync(client, ct);
            (await client.PostAsJsonAsync("/v1/Senders", new { address = From, channel = "SMS", mps }, ct)).EnsureSuccessStatusCode();

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                // Playwright cannot download its own browser here; Debian's Chromium, as the browser tests use.
                ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium",
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
            });
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
            {
                BaseURL = app.BaseAddress.ToString(),
                ViewportSize = new ViewportSize { Width = 1360, Height = 860 },
            });
            context.SetDefaultTimeout(120_000);
            await SignInAsync(context);

            // The operation is paused while the pages open (opening 20 costs CPU for a while), so that what is
            // measured is a running operation watched by all of them at once, from its resume to COMPLETED.
            var operation = await LaunchAsync(client, recipients, ct);
            await ControlAsync(client, operation, "Pause", ct);
            var opening = Stopwatch.StartNew();
            var pages = await Task.WhenAll(Enumerable.Range(0, pageCount).Select(_ => OpenDashboardAsync(context, operation)));
            var allWatching = opening.Elapsed;
            var cpuBefore = app.Process.TotalProcessorTime;
            var browserCpuBefore = BrowserCpuSeconds(app.Process.Id);
            var resumed = Stopwatch.StartNew();
            var resumedAtMs = NowMs();
            await ControlAsync(client, operation, "Resume", ct);
            var truth = await PollAsync(client, app.Process, operation, recipients, TimeSpan.FromSeconds(recipients / (double)mps * 3 + 120), ct);
            var measured = resumed.Elapsed;
            app.Process.Refresh();
            var cpu = (app.Process.TotalProcessorTime - cpuBefore).TotalSeconds / measured.TotalSeconds;
            var browserCpu = (BrowserCpuSeconds(app.Process.Id) - browserCpuBefore) / measured.TotalSeconds;
            var records = new List<PageRecord>();
            foreach (var page in pages)
            {
                records.Add(PageRecord.Read(await page.EvaluateAsync<JsonElement>("() => window.__bench")));
            }
            await context.CloseAsync();
            if (options.TryGetValue("raw", out var raw))
            {
                await File.WriteAllTextAsync(raw, JsonSerializer.Serialize(new { resumedAtMs, truth, records }), ct);
            }

            return Report(truth, records, resumedAtMs, recipients, mps, deliveryDelayMs, allWatching, cpu, browserCpu);
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

    private static int Option(IReadOnlyDictionary<string, string> options, string name, int fallback) =>
        options.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    /// <summary>Signs in once; the context's pages share the cookie.</summary>
    private static async Task SignInAsync(IBrowserContext context)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync("/login");
        await page.GetByLabel("Email").FillAsync(AdminEmail);
        await page.GetByLabel("Password").FillAsync(AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
        await page.CloseAsync();
    }

    private static async Task<string> LaunchAsync(HttpClient client, int recipients, CancellationToken ct)
    {
        var to = Enumerable.Range(0, recipients)
            .Select(i => new { address = "+1202555" + i.ToString("D4", CultureInfo.InvariantCulture) })
            .ToArray();
        var response = await client.PostAsJsonAsync("/v1/Messages", new
        {
            from = new { address = From, channel = "SMS" },
            to,
            content = new { text = "Hi, your code is 123456." },
            name = "dashboards benchmark",
        }, ct);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"launch failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
        return response.Headers.GetValues("operationId").Single();
    }

    private static async Task ControlAsync(HttpClient client, string operation, string action, CancellationToken ct)
    {
        var response = await client.PostAsync($"/v1/Messages/Operations/{operation}/{action}", null, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{action} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
    }

    private static async Task<IPage> OpenDashboardAsync(IBrowserContext context, string operation)
    {
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => Console.Error.WriteLine("page error: " + error);
        await page.GotoAsync($"/campaigns/{operation}");
        await page.WaitForFunctionAsync("() => window.bulkCampaigns?.circuitUp === true && document.querySelector('[data-testid=count-sent]') !== null");
        await page.EvaluateAsync(InstallObserver);
        return page;
    }

    /// <summary>The API every ~100 ms until the operation is COMPLETED and every message delivered, and a little after.</summary>
    private static async Task<Truth> PollAsync(HttpClient client, Process app, string operation, int recipients, TimeSpan timeout, CancellationToken ct)
    {
        var samples = new List<Sample>();
        long peakWorkingSet = 0;
        var limit = Stopwatch.StartNew();
        Stopwatch? settling = null;
        while (settling is null || settling.Elapsed < Settle)
        {
            if (limit.Elapsed > timeout)
            {
                throw new TimeoutException($"operation {operation} did not complete in {timeout}; last: {samples.LastOrDefault()}");
            }
            var sentAt = NowMs();
            var op = await client.GetFromJsonAsync<JsonElement>($"/v1/Messages/Operations/{operation}", ct);
            var stats = op.GetProperty("stats");
            var sample = new Sample(sentAt, NowMs(), op.GetProperty("status").GetString()!,
                stats.GetProperty("sent").GetInt64() + stats.GetProperty("delivered").GetInt64(), stats.GetProperty("delivered").GetInt64());
            samples.Add(sample);
            app.Refresh();
            peakWorkingSet = Math.Max(peakWorkingSet, app.WorkingSet64);
            if (settling is null && sample.Status == "COMPLETED" && sample.Delivered >= recipients)
            {
                settling = Stopwatch.StartNew();
            }
            else if (sample.Status is "CANCELED")
            {
                throw new InvalidOperationException($"operation {operation} stopped: {sample.Status}");
            }
            await Task.Delay(PollInterval, ct);
        }
        return new Truth(samples, peakWorkingSet / (1024.0 * 1024.0));
    }

    private static ScenarioResult Report(Truth truth, IReadOnlyList<PageRecord> pages, double resumedAtMs, int recipients, int mps, int deliveryDelayMs, TimeSpan allWatching, double cpu, double browserCpu)
    {
        var lags = new List<double>();
        var lagsFromAnswer = new List<double>();
        var missed = 0;
        foreach (var page in pages)
        {
            foreach (var (metric, select) in new (string, Func<Sample, long>)[] { ("sent", s => s.Dispatched), ("delivered", s => s.Delivered) })
            {
                // The first sample, taken as the operation resumed, is what every page already shows.
                var previous = select(truth.Samples[0]);
                foreach (var sample in truth.Samples)
                {
                    var value = select(sample);
                    if (value <= previous)
                    {
                        continue;
                    }
                    previous = value;
                    var shown = page.Changes.FirstOrDefault(c => (metric == "sent" ? c.Dispatched : c.Delivered) >= value);
                    if (shown is null)
                    {
                        missed++;
                    }
                    else
                    {
                        lags.Add((shown.T - sample.SentAtMs) / 1000.0);
                        lagsFromAnswer.Add((shown.T - sample.ReceivedAtMs) / 1000.0);
                    }
                }
            }
        }
        lags.Sort();
        lagsFromAnswer.Sort();
        var end = truth.Samples[^1].ReceivedAtMs;
        // Renders are count changes from the resume on (the first entry is the value at install, not a render).
        var renders = pages.Select(p => p.Changes.Skip(1).Select(c => c.T).Where(t => t >= resumedAtMs).ToList()).ToList();
        var maxRenders = renders.Max(PeakPerSecond);
        var averageRenders = renders.Average(r => r.Count / ((end - resumedAtMs) / 1000.0));
        var maxBatches = pages.Max(p => PeakPerSecond(p.Batches.Where(t => t >= resumedAtMs)));
        var p95 = Percentile(lags, 0.95);
        var last = pages.Min(p => p.Changes[^1].Delivered);
        var figures = new List<Figure>
        {
            new("status change → visible (p95)", p95, "s", null, "≤ 1 s", lags.Count > 0 && p95 <= 1 && missed == 0),
            new("status change → visible (p50)", Percentile(lags, 0.5), "s"),
            new("status change → visible (max)", lags.Count == 0 ? double.NaN : lags[^1], "s"),
            // The value was read somewhere between the request and its answer: from the answer is the lower bound.
            new("status change → visible (p95, from the API's answer)", Percentile(lagsFromAnswer, 0.95), "s"),
            new("changes never shown", missed, "changes", null, "0", missed == 0),
            new("max renders/s per page (count changes)", maxRenders, "renders/s", null, "≤ 4", maxRenders <= 4),
            new("average renders/s per page", averageRenders, "renders/s"),
            new("max DOM update batches/s per page", maxBatches, "batches/s"),
            new("pages", pages.Count, "pages"),
            new("pages showing every delivery at the end", pages.Count(p => p.Changes[^1].Delivered == recipients), "pages", null, $"{pages.Count}", last == recipients),
            new("opening the pages (operation paused)", allWatching.TotalSeconds, "s"),
            new("resume → COMPLETED", (truth.Samples.First(s => s.Status == "COMPLETED").SentAtMs - resumedAtMs) / 1000.0, "s"),
            new("app CPU (average, 1.0 = one core)", cpu, "cores"),
            new("app peak working set", truth.PeakWorkingSetMb, "MB"),
            new("browser CPU (Chromium + driver, average)", browserCpu, "cores"),
        };
        return Harness.Result("dashboards", figures, new Dictionary<string, string>
        {
            ["pages"] = pages.Count.ToString(CultureInfo.InvariantCulture),
            ["recipients"] = recipients.ToString(CultureInfo.InvariantCulture),
            ["mps"] = mps.ToString(CultureInfo.InvariantCulture),
            ["provider"] = $"Simulated, LatencyMs=0, FailureRate=0, UndeliveredRate=0, DeliveryDelayMs={deliveryDelayMs}",
            ["visibility"] = string.Join('/', pages.Select(p => p.Visibility).Distinct()),
            ["lag samples"] = lags.Count.ToString(CultureInfo.InvariantCulture),
            ["truth"] = $"GET /v1/Messages/Operations/{{id}} every {PollInterval.TotalMilliseconds:0} ms; lag measured from the request that first saw a value (upper bound) or its answer (lower bound)",
            ["api request (p50/p95/max)"] = string.Join('/', RequestTimes(truth).Select(t => t.ToString("0", CultureInfo.InvariantCulture))) + " ms",
            ["load average at end"] = LoadAverage(),
        });
    }

    private static double[] RequestTimes(Truth truth)
    {
        var times = truth.Samples.Select(s => s.ReceivedAtMs - s.SentAtMs).Order().ToList();
        return [Percentile(times, 0.5), Percentile(times, 0.95), times[^1]];
    }

    /// <summary>The most events in one whole wall-clock second.</summary>
    private static int PeakPerSecond(IEnumerable<double> times) =>
        times.GroupBy(t => Math.Floor(t / 1000)).Select(g => g.Count()).DefaultIfEmpty(0).Max();

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static double NowMs() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;

    /// <summary>
    /// CPU seconds used so far by this process's descendants other than the app (Playwright's driver and Chromium):
    /// on a 2-core machine the browsers of 20 dashboards compete with the app they measure.
    /// </summary>
    private static double BrowserCpuSeconds(int appPid)
    {
        if (!Directory.Exists("/proc"))
        {
            return double.NaN;
        }
        var stats = new Dictionary<int, (int Parent, double Seconds)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                // After the ")" closing the command name: state, ppid, … utime (14th field), stime (15th).
                var text = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                stats[pid] = (int.Parse(fields[1], CultureInfo.InvariantCulture),
                    (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0);
            }
            catch (IOException)
            {
                // It exited meanwhile.
            }
        }
        bool Under(int pid, int ancestor)
        {
            for (var depth = 0; pid > 1 && depth < 64 && stats.TryGetValue(pid, out var s); depth++, pid = s.Parent)
            {
                if (pid == ancestor)
                {
                    return true;
                }
            }
            return false;
        }
        var self = Environment.ProcessId;
        return stats.Where(p => p.Key != self && Under(p.Key, self) && !Under(p.Key, appPid)).Sum(p => p.Value.Seconds);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private sealed record Sample(double SentAtMs, double ReceivedAtMs, string Status, long Dispatched, long Delivered);

    private sealed record Truth(IReadOnlyList<Sample> Samples, double PeakWorkingSetMb);

    private sealed record Shown(double T, long Dispatched, long Delivered);

    private sealed record PageRecord(double Installed, string Visibility, IReadOnlyList<double> Batches, IReadOnlyList<Shown> Changes)
    {
        public static PageRecord Read(JsonElement bench) => new(
            bench.GetProperty("installed").GetDouble(),
            bench.GetProperty("visibility").GetString() ?? "",
            bench.GetProperty("batches").EnumerateArray().Select(b => b.GetDouble()).ToList(),
            bench.GetProperty("changes").EnumerateArray()
                .Select(c => new Shown(c.GetProperty("t").GetDouble(), c.GetProperty("sent").GetInt64() + c.GetProperty("delivered").GetInt64(), c.GetProperty("delivered").GetInt64()))
                .ToList());
    }
}
