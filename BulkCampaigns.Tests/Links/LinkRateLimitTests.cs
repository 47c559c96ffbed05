using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Links;

/// <summary>
/// The redirect's own limit, as configured by default (20 a second, bursts of 60, per client address), behind a proxy
/// that names the client in <c>X-Forwarded-For</c> (<c>ASPNETCORE_FORWARDEDHEADERS_ENABLED</c>, as the README says to set
/// behind one). The test server has no remote address of its own: without the header a request's address is unknown.
/// </summary>
public sealed class LinkRateLimitApp : AppFactory
{
    public LinkRateLimitApp()
    {
        UseExactSimulator(Settings);
        Settings["Links:BaseUrl"] = LinksSettings.BaseUrl;
        Settings["FORWARDEDHEADERS_ENABLED"] = "true";
    }
}

[Collection(DispatchAppsCollection.Name)]
public sealed partial class LinkRateLimitTests(LinkRateLimitApp app) : IClassFixture<LinkRateLimitApp>
{
    private const int Burst = 60;
    private const int PerSecond = 20;
    private const string TooMany = "Too many requests from this address; try again in a moment.";

    [GeneratedRegex(@"https://go\.example/l/([A-Za-z0-9]{16})")]
    private static partial Regex ShortLink();

    private sealed record Answer(string Code, HttpStatusCode Status, string? Location, string? RetryAfter, string? ContentType, string Body, string Headers);

    /// <summary>Three recipients, each with their own link; returns each code with the URL it stands for.</summary>
    private async Task<Dictionary<string, string>> CodesAsync(string from)
    {
        using var client = app.CreateApiClient();
        await CreateSenderAsync(client, from, 1000);
        var group = await InsertGroupAsync(app.Database.ConnectionString,
            Enumerable.Range(0, 3).Select(i => (Number(7300 + i), $$"""{"code":"R{{i}}"}""")));
        var id = await SendAsync(client, new
        {
            from = new { address = from },
            to = new[] { new { groupId = group } },
            content = new { text = "Your reward: https://shop.example/reward/{{code}}", trackLinks = true },
        });
        await WaitForStatusAsync(client, id, "COMPLETED");
        var received = await SimulatorMessagesAsync(client, $"&from={Uri.EscapeDataString(from)}");
        Assert.Equal(3, received.Count);
        return received.ToDictionary(
            m => ShortLink().Match(m.GetProperty("body").GetString()!).Groups[1].Value,
            m => $"https://shop.example/reward/R{int.Parse(m.GetProperty("to").GetString()![^4..], System.Globalization.CultureInfo.InvariantCulture) - 7300}");
    }

    /// <summary>A phone opening the link, as the proxy hands it on (no API key; <paramref name="address"/> null: no client address).</summary>
    private async Task<Answer> OpenAsync(HttpClient phone, string code, string? address)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/l/{code}");
        if (address is not null)
        {
            request.Headers.Add("X-Forwarded-For", address);
        }
        using var response = await phone.SendAsync(request);
        return new Answer(code, response.StatusCode, response.Headers.Location?.ToString(),
            response.Headers.TryGetValues("Retry-After", out var retry) ? string.Join(",", retry) : null,
            response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsStringAsync(),
            response.Headers.ToString() + response.Content.Headers);
    }

    private HttpClient Phone() => app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    /// <summary>
    /// Opens the codes from one address in waves of 30 at once (faster than 20 a second on any machine) until one is
    /// refused; returns every answer in the order sent and how long the burst took.
    /// </summary>
    private async Task<(List<Answer> Answers, TimeSpan Took)> BurstAsync(HttpClient phone, List<string> codes, string? address)
    {
        var answers = new List<Answer>();
        var clock = Stopwatch.StartNew();
        while (!answers.Exists(a => a.Status == HttpStatusCode.TooManyRequests) && answers.Count < 1200)
        {
            var first = answers.Count;
            answers.AddRange(await Task.WhenAll(Enumerable.Range(first, 30).Select(i => OpenAsync(phone, codes[i % codes.Count], address))));
        }
        return (answers, clock.Elapsed);
    }

    [Fact]
    public async Task A_burst_past_sixty_from_one_address_gets_a_plain_429_with_Retry_After_while_its_first_sixty_and_other_addresses_redirect()
    {
        var targets = await CodesAsync("+14155550861");
        var codes = targets.Keys.ToList();
        using var phone = Phone();

        var (answers, took) = await BurstAsync(phone, codes, "203.0.113.7");

        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.Found or HttpStatusCode.TooManyRequests, $"{a.Status}: {a.Body}"));
        // The bucket starts full: the first 60 redirect, each to its own recipient's URL.
        Assert.All(answers.Take(Burst), a => Assert.Equal((HttpStatusCode.Found, targets[a.Code]), (a.Status, a.Location)));
        var redirected = answers.Where(a => a.Status == HttpStatusCode.Found).ToList();
        Assert.All(redirected, a => Assert.Equal(targets[a.Code], a.Location));
        // Past them only what the bucket refilled meanwhile (20 each second) got through.
        Assert.InRange(redirected.Count, Burst, Burst + (PerSecond * (int)Math.Ceiling(took.TotalSeconds)));

        var refused = answers.Where(a => a.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, a =>
        {
            Assert.Equal(TooMany, a.Body);
            Assert.StartsWith("text/plain", a.ContentType, StringComparison.Ordinal);
            Assert.Equal("1", a.RetryAfter);
            // Nothing of the campaign: not where the link leads, not the code, not the operation or the message.
            Assert.Null(a.Location);
            Assert.DoesNotContain("shop.example", a.Headers + a.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(a.Code, a.Headers + a.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("comms_", a.Headers + a.Body, StringComparison.Ordinal);
        });

        // Another client, at the same moment, is not held up by the first one's burst.
        var other = await OpenAsync(phone, codes[0], "198.51.100.23");
        Assert.Equal((HttpStatusCode.Found, targets[codes[0]]), (other.Status, other.Location));

        // After the Retry-After the first address redirects again.
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        var again = await OpenAsync(phone, codes[1], "203.0.113.7");
        Assert.Equal((HttpStatusCode.Found, targets[codes[1]]), (again.Status, again.Location));
    }

    [Fact]
    public async Task Requests_with_no_client_address_share_one_bucket_so_they_are_limited_too()
    {
        var targets = await CodesAsync("+14155550862");
        var codes = targets.Keys.ToList();
        using var first = Phone();
        using var second = Phone();

        var (answers, took) = await BurstAsync(first, codes, address: null);

        Assert.All(answers.Take(Burst), a => Assert.Equal((HttpStatusCode.Found, targets[a.Code]), (a.Status, a.Location)));
        Assert.InRange(answers.Count(a => a.Status == HttpStatusCode.Found), Burst, Burst + (PerSecond * (int)Math.Ceiling(took.TotalSeconds)));
        Assert.Equal(TooMany, answers.Last(a => a.Status == HttpStatusCode.TooManyRequests).Body);
        // Another client without an address lands in the same, emptied bucket: of 50 at once, at most what refilled
        // since gets through. One with an address has a full bucket of its own.
        var clock = Stopwatch.StartNew();
        var unknown = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => OpenAsync(second, codes[i % codes.Count], address: null)));
        Assert.InRange(unknown.Count(a => a.Status == HttpStatusCode.Found), 0, PerSecond * (int)Math.Ceiling(clock.Elapsed.TotalSeconds));
        Assert.Contains(unknown, a => a.Status == HttpStatusCode.TooManyRequests);
        var known = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => OpenAsync(second, codes[i % codes.Count], "192.0.2.44")));
        Assert.All(known, a => Assert.Equal(HttpStatusCode.Found, a.Status));
    }
}
