using System.Text;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BulkCampaigns.Tests.Browser;

/// <summary>A contact file as marketers bring it: headers like "Mobile Number", names in many scripts, bad and repeated rows.</summary>
internal static class ContactFile
{
    public const string Header = "Mobile Number,First Name,last_name,City,Plan,signup_date,Notes";

    private static readonly string[] FirstNames = ["Zoë", "José", "Łukasz", "Søren", "Иван", "Ελένη", "محمد", "דוד", "प्रिया", "王芳", "さくら", "민준", "Nguyễn", "Ayşe", "Chloé", "Ann"];
    private static readonly string[] LastNames = ["Müller", "O'Brien", "García", "Kowalski", "Петров", "Παπαδόπουλος", "Haddad", "Cohen", "Sharma", "李", "佐藤", "김", "Trần", "Yılmaz", "Dubois", "Smith"];
    private static readonly string[] Cities = ["Paris", "São Paulo", "Kraków", "København", "Москва", "Αθήνα", "القاهرة", "תל אביב", "मुंबई", "北京", "東京", "서울", "Hà Nội", "İstanbul", "\"Washington, D.C.\"", "Oslo"];
    private static readonly string[] AreaCodes = ["201", "212", "305", "415", "617", "702", "808", "917"];

    /// <summary>
    /// Writes rows until the file reaches <paramref name="bytes"/>. Each row is padded to about <paramref name="rowBytes"/> with a
    /// Notes value, so a 100 MB file stays well under the group limit. Every 40th row repeats the number before it in
    /// another form; every 97th is invalid (letters, or too short).
    /// </summary>
    public static async Task<int> WriteAsync(string path, long bytes, int rowBytes)
    {
        await using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        await writer.WriteAsync(Header + "\n");
        long written = Header.Length + 1;
        var rows = 0;
        var notes = new string('n', Math.Max(1, rowBytes - 90));
        while (written < bytes)
        {
            rows++;
            var i = rows;
            string number;
            if (i % 97 == 0)
            {
                number = i % 2 == 0 ? "+1 201 555 CALL" : "12ab";
            }
            else
            {
                var n = i % 40 == 0 ? i - 1 : i;
                var area = AreaCodes[n % AreaCodes.Length];
                var exchange = 200 + (n / 10_000 % 700);
                var line = (n % 10_000).ToString("D4");
                number = ((n + (i % 40 == 0 ? 1 : 0)) % 3) switch
                {
                    0 => $"+1 {area} {exchange} {line}",
                    1 => $"({area}) {exchange}-{line}",
                    _ => $"{area}.{exchange}.{line}",
                };
            }
            var row = $"{number},{FirstNames[i % FirstNames.Length]},{LastNames[i / 3 % LastNames.Length]},{Cities[i / 7 % Cities.Length]},{(i % 3 == 0 ? "gold" : "basic")},2024-{1 + i % 12:D2}-{1 + i % 28:D2},{notes}\n";
            await writer.WriteAsync(row);
            written += Encoding.UTF8.GetByteCount(row);
        }
        return rows;
    }
}

[Trait(DatabaseTrait.Name, DatabaseTrait.PagesOnly)]
[Collection(BrowserCollection.Name)]
public sealed class ContactFileTests(BrowserApp browser)
{
    [Theory]
    [InlineData(20)]
    [InlineData(40)]
    public async Task A_contact_file_of_some_tens_of_KB_is_mapped_and_imported_from_the_page(int kilobytes)
    {
        await using var session = await browser.SignedInPageAsync();
        var path = Path.Combine(browser.App.DataFolder, $"contacts-{kilobytes}k.csv");
        var rows = await ContactFile.WriteAsync(path, kilobytes * 1024, 140);
        var page = await BrowserSteps.OpenNewGroupAsync(session, $"Contacts {kilobytes} KB " + Guid.NewGuid().ToString("N")[..6]);

        await BrowserSteps.ChooseContactFileAsync(page, path);

        await BrowserSteps.ExpectMappingAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = $"Import contacts-{kilobytes}k.csv" }).ClickAsync();
        await Expect(page.GetByTestId("import-summary")).ToContainTextAsync("Import finished", new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("import-status")).ToContainTextAsync(rows.ToString("N0"));
        Assert.Empty(session.ConsoleErrors);
    }

    [Fact]
    public async Task A_contact_file_of_a_megabyte_and_a_half_shows_its_mapping_rejected_rows_merged_rows_and_can_be_searched_by_name()
    {
        await using var session = await browser.SignedInPageAsync();
        var path = Path.Combine(browser.App.DataFolder, "contacts-1.5mb.csv");
        await ContactFile.WriteAsync(path, 1536 * 1024, 160);
        var page = await BrowserSteps.OpenNewGroupAsync(session, "Contacts 1.5 MB " + Guid.NewGuid().ToString("N")[..6]);

        await BrowserSteps.ChooseContactFileAsync(page, path);

        await BrowserSteps.ExpectMappingAsync(page);
        await Expect(page.GetByTestId("csv-preview")).ToContainTextAsync("José");
        await page.GetByRole(AriaRole.Button, new() { Name = "Import contacts-1.5mb.csv" }).ClickAsync();
        await Expect(page.GetByTestId("import-summary")).ToContainTextAsync("Import finished", new() { Timeout = 60_000 });

        var rejected = page.GetByTestId("rejected-rows");
        await Expect(rejected.Locator("tbody tr")).ToHaveCountAsync(10);
        await Expect(rejected).ToContainTextAsync("written with letters");
        await page.GetByTestId("rejected-pager").GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Expect(page.GetByTestId("rejected-pager")).ToContainTextAsync("Page 2");
        await Expect(page.GetByTestId("merged-rows")).ToContainTextAsync("+1");

        await page.GetByTestId("search-in").Locator(".mud-select").First.ClickAsync();
        await page.Locator(".mud-popover-open").GetByText("First Name", new() { Exact = true }).ClickAsync();
        await page.GetByLabel("Search First Name").FillAsync("Łukasz");
        var grid = page.GetByTestId("recipients-grid");
        await Expect(grid.Locator("tbody tr").First).ToContainTextAsync("Łukasz");
        await Expect(grid.Locator("tbody tr").Filter(new() { HasText = "Zoë" })).ToHaveCountAsync(0);
        Assert.Empty(session.ConsoleErrors);
    }

    [Fact]
    public async Task A_100_MB_contact_file_is_mapped_within_2_seconds_uploads_with_progress_and_imports()
    {
        await using var session = await browser.SignedInPageAsync();
        var path = Path.Combine(browser.App.DataFolder, "contacts-100mb.csv");
        try
        {
            // Rows of about 400 bytes: some 260,000 recipients, well under the 1,000,000 of a group.
            var rows = await ContactFile.WriteAsync(path, 100L * 1024 * 1024, 400);
            var page = await BrowserSteps.OpenNewGroupAsync(session, "Contacts 100 MB " + Guid.NewGuid().ToString("N")[..6]);
            // Records what the upload and import panels show, however briefly.
            await page.EvaluateAsync("""
                () => {
                    window.__seen = [];
                    new MutationObserver(() => {
                        for (const id of ["upload-progress", "import-progress"]) {
                            const el = document.querySelector(`[data-testid=${id}]`);
                            if (el) window.__seen.push(id + ": " + el.textContent);
                        }
                    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
                }
                """);
            // A link of 40 MB/s, so the upload takes a few seconds as it does over a network.
            var cdp = await page.Context.NewCDPSessionAsync(page);
            await cdp.SendAsync("Network.enable");
            await cdp.SendAsync("Network.emulateNetworkConditions", new Dictionary<string, object>
            {
                ["offline"] = false, ["latency"] = 0, ["downloadThroughput"] = -1, ["uploadThroughput"] = 40 * 1024 * 1024,
            });

            await BrowserSteps.ChooseContactFileAsync(page, path);

            await BrowserSteps.ExpectMappingAsync(page, timeout: 2_000);
            await page.GetByRole(AriaRole.Button, new() { Name = "Import contacts-100mb.csv" }).ClickAsync();
            await Expect(page.GetByTestId("import-summary")).ToContainTextAsync("Import finished", new() { Timeout = 180_000 });
            await Expect(page.GetByTestId("import-status")).ToContainTextAsync(rows.ToString("N0"));
            var seen = await page.EvaluateAsync<string[]>("() => window.__seen");
            Assert.Contains(seen, s => s.StartsWith("upload-progress: Uploading contacts-100mb.csv:", StringComparison.Ordinal) && !s.Contains("100 MB of 100 MB", StringComparison.Ordinal));
            Assert.Contains(seen, s => s.StartsWith("import-progress", StringComparison.Ordinal));
            Assert.Empty(session.ConsoleErrors);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
