using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using BulkCampaigns.Components.Shared;
using BulkCampaigns.Data;
using BulkCampaigns.Simulator;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BulkCampaigns.Tests.Browser;

/// <summary>
/// A contact file as a marketer exports it from a CRM: the exact headers "Mobile Number,First Name,last_name,City,Plan,signup_date",
/// names in many scripts, quoted fields with commas, about 1 % numbers that are no numbers (a vanity "+1 201 555 CALL",
/// letters, too short) and about 1 % people listed twice in another writing of their number.
/// </summary>
internal sealed class MarketerContactFile
{
    public const string Header = "Mobile Number,First Name,last_name,City,Plan,signup_date";

    private static readonly string[] FirstNames = ["Zoë", "José", "Nguyễn Thị Minh", "王芳", "Łukasz", "Chloé 🌸", "Иван", "Ελένη", "محمد", "さくら", "민준", "Ayşe", "Søren", "Trần Văn Đức", "李小龙", "Ann"];
    private static readonly string[] LastNames = ["Müller", "O'Brien", "García", "Phạm", "张", "Kowalski", "Петров", "Παπαδόπουλος", "Haddad", "佐藤", "김", "Yılmaz", "Dubois", "Smith"];
    private static readonly string[] Cities = ["Paris", "São Paulo", "Hà Nội", "北京", "\"Washington, D.C.\"", "Kraków", "東京", "\"Portland, Oregon\"", "İstanbul", "Oslo"];
    private static readonly string[] Plans = ["\"Gold, yearly, 2 lines\"", "basic", "\"Family, 4 lines, roaming: EU, US\"", "\"Silver, monthly\""];
    private static readonly string[] AreaCodes = ["201", "212", "305", "415", "617", "702", "808", "917"];
    private static readonly string[] NotNumbers = ["+1 201 555 CALL", "12ab", "201-55"];

    /// <summary>Each person once, by the E.164 number the import makes of the first row naming them.</summary>
    public Dictionary<string, string> FirstNameByNumber { get; } = new(StringComparer.Ordinal);
    public int Rejected { get; private set; }
    public int Duplicates { get; private set; }

    public static async Task<MarketerContactFile> WriteAsync(string path, long bytes)
    {
        var file = new MarketerContactFile();
        await using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        await writer.WriteAsync(Header + "\r\n");
        long written = Header.Length + 2;
        (string E164, string Area, string Exchange, string Line, string FirstName)? last = null;
        for (var i = 1; written < bytes; i++)
        {
            string number, firstName;
            if (i % 97 == 0)
            {
                number = NotNumbers[i / 97 % NotNumbers.Length];
                firstName = FirstNames[i % FirstNames.Length];
                file.Rejected++;
            }
            else if (i % 89 == 0 && last is { } repeated)
            {
                // The same person again, their number written another way.
                number = $"({repeated.Area}) {repeated.Exchange}-{repeated.Line}";
                firstName = repeated.FirstName;
                file.Duplicates++;
            }
            else
            {
                var n = file.FirstNameByNumber.Count;
                var area = AreaCodes[n % AreaCodes.Length];
                var exchange = (200 + n / 10_000 % 700).ToString(CultureInfo.InvariantCulture);
                var line = (n % 10_000).ToString("D4", CultureInfo.InvariantCulture);
                firstName = FirstNames[i % FirstNames.Length];
                number = (n % 3) switch
                {
                    0 => $"+1 {area} {exchange} {line}",
                    1 => $"{area}.{exchange}.{line}",
                    _ => $"1-{area}-{exchange}-{line}",
                };
                last = ($"+1{area}{exchange}{line}", area, exchange, line, firstName);
                file.FirstNameByNumber.Add(last.Value.E164, firstName);
            }
            var row = string.Create(CultureInfo.InvariantCulture,
                $"{number},{firstName},{LastNames[i / 3 % LastNames.Length]},{Cities[i / 7 % Cities.Length]},{Plans[i % Plans.Length]},2024-{1 + i % 12:D2}-{1 + i % 28:D2}\r\n");
            await writer.WriteAsync(row);
            written += Encoding.UTF8.GetByteCount(row);
        }
        return file;
    }
}

/// <summary>A carrier that refuses nothing, so what the phones received can be counted exactly.</summary>
public sealed class ReliableCarrierBrowserApp : BrowserApp
{
    protected override void Configure(AppFactory app) => app.Settings["Messaging:Simulated:FailureRate"] = "0";
}

[Collection(BrowserCollection.Name)]
public sealed class MarketerJourneyTests(ReliableCarrierBrowserApp browser) : IClassFixture<ReliableCarrierBrowserApp>
{
    private const string Sender = "+13125550140";
    private const string Message = "Hi , your spring offer is here.";
    private static string Greeting(string firstName) => $"Hi {firstName}, your spring offer is here.";

    [Fact]
    public async Task A_new_marketer_imports_a_megabyte_contact_file_writes_a_template_schedules_by_keyboard_and_every_recipient_gets_their_first_name()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var email = $"marketer-{suffix}@example.com";
        const string password = "a marketer's long password";

        // An admin adds the marketer on Settings → Users.
        await using (var admin = await browser.SignedInPageAsync())
        {
            await admin.Page.GotoAsync("/settings");
            await admin.WaitForInteractiveAsync();
            await admin.Page.GetByRole(AriaRole.Tab, new() { Name = "Users" }).ClickAsync();
            await admin.Page.GetByLabel("Email").FillAsync(email);
            await admin.Page.GetByLabel("Initial password").FillAsync(password);
            await admin.Page.GetByRole(AriaRole.Button, new() { Name = "Add user" }).ClickAsync();
            await Expect(admin.Page.GetByRole(AriaRole.Cell, new() { Name = email })).ToBeVisibleAsync();
        }

        // The marketer works from Chicago and sends to people in Paris.
        await using var session = await browser.SignedInPageAsync("America/Chicago", email, password);
        var page = session.Page;
        await Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync(email);

        await page.GetByRole(AriaRole.Link, new() { Name = "Senders", Exact = true }).ClickAsync();
        await page.GetByLabel("Address").FillAsync(Sender);
        await page.GetByLabel("MPS", new() { Exact = true }).FillAsync("5000");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add sender" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = Sender, Exact = true })).ToBeVisibleAsync();

        // A contact file of a little over 1 MB.
        var path = Path.Combine(browser.App.DataFolder, "crm-export.csv");
        var contacts = await MarketerContactFile.WriteAsync(path, 1_100_000);
        Assert.True(new FileInfo(path).Length > 1024 * 1024);
        var people = contacts.FirstNameByNumber.Count;
        var group = "Spring customers " + suffix;
        await BrowserSteps.OpenNewGroupAsync(session, group);
        await BrowserSteps.ChooseContactFileAsync(page, path);
        await BrowserSteps.ExpectMappingAsync(page, timeout: 15_000);
        await Expect(page.GetByTestId("csv-preview")).ToContainTextAsync("Nguyễn Thị Minh");
        await page.GetByRole(AriaRole.Button, new() { Name = "Import crm-export.csv" }).ClickAsync();
        await Expect(page.GetByTestId("import-summary")).ToHaveTextAsync(
            $"Import finished: {N(people)} added, 0 updated, {N(contacts.Duplicates)} duplicates merged, {N(contacts.Rejected)} rows rejected. The group now has {N(people)} recipients.",
            new() { Timeout = 60_000 });
        await Expect(page.GetByTestId("group-count")).ToHaveTextAsync($"{N(people)} recipients");
        var rejected = page.GetByTestId("rejected-rows");
        await Expect(rejected.Locator("tbody tr")).ToHaveCountAsync(10);
        await Expect(rejected).ToContainTextAsync("+1 201 555 CALL");
        await page.GetByTestId("rejected-pager").GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Expect(page.GetByTestId("rejected-pager")).ToContainTextAsync("Page 2");
        await Expect(page.GetByTestId("merged-rows")).ToContainTextAsync("+1");

        // A template: "Insert placeholder" offers First Name as {{ first_name }}; the preview is a real recipient.
        await page.GotoAsync("/content/new");
        await session.WaitForInteractiveAsync();
        var picker = page.GetByTestId("sample-picker");
        await picker.GetByText("Recipient of a group").ClickAsync();
        await picker.Locator(".mud-select").First.ClickAsync();
        await page.Locator(".mud-popover-open").GetByText(group).ClickAsync();
        var sample = await BrowserSteps.SampleAddressAsync(page.GetByTestId("sample-address"));
        var message = page.GetByLabel("Message", new() { Exact = true });
        await message.FillAsync(Message);
        await message.EvaluateAsync("e => e.setSelectionRange(3, 3)");
        await page.GetByTestId("message-editor").GetByRole(AriaRole.Button, new() { Name = "Insert placeholder" }).ClickAsync();
        // The "First Name" column, offered under the key the template reads.
        var firstName = page.Locator(".mud-popover-open").GetByRole(AriaRole.Menuitem).Filter(new() { HasText = "{{ first_name }}" });
        await Expect(firstName).ToHaveTextAsync(new Regex(@"^\s*\{\{ first_name \}\}\s*· First Name\s*$"));
        await firstName.ClickAsync();
        await Expect(message).ToHaveValueAsync("Hi {{ first_name }}, your spring offer is here.");
        await Expect(page.GetByTestId("phone-sms").GetByTestId("phone-text")).ToHaveTextAsync(Greeting(contacts.FirstNameByNumber[sample]));
        var template = "Spring offer " + suffix;
        await page.GetByLabel("Template name").FillAsync(template);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/content/cnt_[0-9a-z]+$"));

        // The wizard: the group, the saved template as the recipient gets it, the sender, a typed time in Paris.
        await page.GotoAsync("/campaigns/new");
        await session.WaitForInteractiveAsync();
        await BrowserSteps.OpenSelectAsync(page, "audience-groups", group);
        await page.Locator(".mud-popover-open").GetByText(group).ClickAsync();
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.GetByTestId("will-receive")).ToHaveTextAsync(N(people));
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        await page.GetByText("Use a saved template").ClickAsync();
        await BrowserSteps.OpenSelectAsync(page, "content-template", template);
        await page.Locator(".mud-popover-open").GetByText(template).ClickAsync();
        var preview = page.GetByTestId("template-preview");
        var previewed = await BrowserSteps.SampleAddressAsync(preview.GetByTestId("sample-address"));
        await Expect(preview.GetByTestId("phone-text")).ToHaveTextAsync(Greeting(contacts.FirstNameByNumber[previewed]));
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        await page.GetByText(new Regex($"^\\{Sender} · SMS")).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        await page.GetByText("Send at a date and time").ClickAsync();
        var zone = page.GetByTestId("time-zone").Locator("input");
        await Expect(zone).ToHaveValueAsync("America/Chicago");
        await zone.ClickAsync();
        await zone.FillAsync("paris");
        await page.GetByRole(AriaRole.Option, new() { Name = "Europe/Paris" }).ClickAsync();
        await Expect(zone).ToHaveValueAsync("Europe/Paris");
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        var now = TimeZoneInfo.ConvertTime(DateTime.UtcNow, paris);
        var start = new DateTime(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0).AddMinutes(4);
        var field = page.GetByTestId("send-at").Locator("input");
        await field.ClickAsync(new() { Position = new() { X = 12, Y = 10 } });
        await field.PressSequentiallyAsync(start.ToString("MMddyyyy", CultureInfo.InvariantCulture));
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync(start.ToString("hhmm", CultureInfo.InvariantCulture) + (start.Hour < 12 ? "A" : "P"));
        await page.Keyboard.PressAsync("Tab");
        await Expect(field).ToHaveValueAsync(new Regex($"^{start:yyyy-MM-ddTHH:mm}(:00)?$"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        var campaign = "Spring offer for " + group;
        await page.GetByTestId("campaign-name").Locator("input").FillAsync(campaign);
        var startShown = $"{start:yyyy-MM-dd HH:mm} Europe/Paris";
        await Expect(page.GetByTestId("review-start")).ToContainTextAsync(startShown);
        await Expect(page.GetByTestId("review-audience")).ToContainTextAsync($"{group} · {N(people)} will receive");
        await Expect(page.GetByTestId("review-sender")).ToContainTextAsync($"{Sender} · SMS");
        await Expect(page.GetByTestId("review-content")).ToContainTextAsync(template);
        await Expect(page.GetByTestId("review-sample")).ToHaveTextAsync(new Regex(@"^Hi [^{}]+, your spring offer is here\.$"));
        await page.GetByTestId("launch").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync($"Schedule \"{campaign}\" for {startShown}");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Schedule" }).ClickAsync();

        // Scheduled, not sending, and the dashboard says when it starts, in the marketer's own zone.
        await BrowserSteps.WaitForAddressAsync(page, url => url.Contains("/campaigns/comms_operation_", StringComparison.Ordinal), "Opening the campaign's dashboard");
        await session.WaitForInteractiveAsync();
        await Expect(page.GetByTestId("campaign-status")).ToHaveTextAsync("SCHEDULED");
        var scheduledUrl = page.Url;
        var startsAt = new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(start, paris), TimeSpan.Zero);
        await Expect(page.GetByTestId("campaign-starts")).ToHaveTextAsync($"Starts {UserClock.Format(startsAt, UserClock.FindZone("America/Chicago")!)}.");
        Assert.Equal(0, await browser.App.ScalarAsync($"""SELECT COUNT(*) FROM "SimulatorMessages" WHERE "From" = '{Sender}'"""));

        // Not waiting four minutes: the marketer cancels it, duplicates it and sends the copy now.
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel campaign" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Cancel campaign" }).ClickAsync();
        await Expect(page.GetByTestId("campaign-status")).ToHaveTextAsync("CANCELED");
        await page.GetByRole(AriaRole.Link, new() { Name = "Duplicate" }).ClickAsync();
        await BrowserSteps.WaitForAddressAsync(page, url => url.Contains("/campaigns/new?draft=", StringComparison.Ordinal), "Opening the saved draft");
        await session.WaitForInteractiveAsync();
        await Expect(page.GetByTestId("will-receive")).ToHaveTextAsync(N(people));
        for (var i = 0; i < 3; i++)
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        }
        await page.GetByText("Send as soon as I launch").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Expect(page.GetByTestId("review-start")).ToContainTextAsync("now, at launch");
        await page.GetByTestId("launch").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Launch now" }).ClickAsync();

        await BrowserSteps.WaitForAddressAsync(page, url => url.Contains("/campaigns/comms_operation_", StringComparison.Ordinal) && url != scheduledUrl, "Opening the new campaign's dashboard");
        await session.WaitForInteractiveAsync();
        await Expect(page.GetByTestId("campaign-percent")).ToHaveTextAsync("100%", new() { Timeout = 90_000 });

        // Every valid person once, greeted by the First Name of their row.
        var factory = browser.App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        var received = await db.Set<SimulatorMessage>().Where(m => m.From == Sender).Select(m => new { m.To, m.Body }).ToListAsync();
        Assert.Equal(people, received.Count);
        Assert.Equal(people, received.Select(m => m.To).Distinct().Count());
        Assert.All(received, m => Assert.Equal(Greeting(contacts.FirstNameByNumber[m.To]), m.Body));
        Assert.Empty(session.ConsoleErrors);
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
