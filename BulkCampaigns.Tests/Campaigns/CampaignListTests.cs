using BulkCampaigns.Campaigns;
using BulkCampaigns.Components.Shared;
using BulkCampaigns.Content;
using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using BulkCampaigns.Operations;
using BulkCampaigns.Senders;
using BulkCampaigns.Tests.Dispatch;
using BulkCampaigns.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BulkCampaigns.Tests.Campaigns;

/// <summary>The campaigns list over a real SQLite file: search, every sort, created-between, keyset pages.</summary>
public sealed class CampaignListTests : IClassFixture<CampaignListTests.ListApp>
{
    private static readonly DateTimeOffset Day = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    // Names with ties in every key (two "spring sale", two sizes of 500, one status shared by three) so the ID decides.
    private static readonly (string? Name, OperationStatus Status, long Total, DateTimeOffset CreatedAt)[] Rows =
    [
        ("Spring sale", OperationStatus.Completed, 500, Day.AddHours(1)),
        ("spring sale", OperationStatus.Canceled, 20, Day.AddHours(2)),
        ("Autumn news", OperationStatus.Completed, 500, Day.AddDays(1).AddHours(3)),
        ("Été 100%_off", OperationStatus.Paused, 7, Day.AddDays(1).AddHours(4)),
        (null, OperationStatus.Completed, 1, Day.AddDays(2)),
        ("Zebra alert", OperationStatus.Scheduled, 90_000, Day.AddDays(3).AddMinutes(-1)),
        ("black friday", OperationStatus.Processing, 1_000_000, Day.AddDays(3)),
    ];

    private readonly ListApp _app;

    public CampaignListTests(ListApp app) => _app = app;

    private CampaignQueries Queries => _app.Services.GetRequiredService<CampaignQueries>();

    [Theory]
    [InlineData("SALE", new[] { "spring sale", "Spring sale" })]
    [InlineData("  friday ", new[] { "black friday" })]
    [InlineData("100%_", new[] { "Été 100%_off" })]
    [InlineData("%", new[] { "Été 100%_off" })]
    [InlineData("nothing like it", new string[0])]
    public async Task The_list_finds_campaigns_by_any_part_of_their_name_whatever_the_case(string search, string[] expected)
    {
        var page = await Queries.CampaignsAsync(new CampaignFilter(Search: search), 50, null);

        Assert.Equal(expected, page.Rows.Select(r => r.Name));
    }

    [Theory]
    [InlineData(CampaignSort.Created, true)]
    [InlineData(CampaignSort.Created, false)]
    [InlineData(CampaignSort.Name, false)]
    [InlineData(CampaignSort.Name, true)]
    [InlineData(CampaignSort.Status, false)]
    [InlineData(CampaignSort.Size, true)]
    [InlineData(CampaignSort.Size, false)]
    public async Task Every_sort_pages_through_every_campaign_once_in_its_order(CampaignSort sort, bool descending)
    {
        var filter = new CampaignFilter(Sort: sort, Descending: descending);
        var seen = new List<OperationView>();
        CampaignKey? after = null;
        var pages = 0;
        do
        {
            var page = await Queries.CampaignsAsync(filter, 2, after);
            seen.AddRange(page.Rows);
            after = page.Next;
            pages++;
        }
        while (after is not null && pages < 20);

        var all = (await Queries.CampaignsAsync(filter with { }, 100, null)).Rows;
        Assert.Equal(Rows.Length, seen.Count);
        Assert.Equal(all.Select(r => r.Id), seen.Select(r => r.Id));
        Assert.Equal(Expected(sort, descending), seen.Select(r => r.Id));
    }

    [Fact]
    public async Task Created_between_keeps_the_campaigns_made_on_those_days_in_the_given_zone()
    {
        // 21 and 22 Nov in Tokyo (UTC+9): from 20 Nov 15:00 UTC to 22 Nov 15:00 UTC.
        var tokyo = UserClock.FindZone("Asia/Tokyo")!;
        var from = NodaTime.LocalDate.FromDateOnly(new DateOnly(2026, 11, 21)).AtStartOfDayInZone(tokyo).ToDateTimeOffset();
        var before = NodaTime.LocalDate.FromDateOnly(new DateOnly(2026, 11, 23)).AtStartOfDayInZone(tokyo).ToDateTimeOffset();

        var page = await Queries.CampaignsAsync(new CampaignFilter(CreatedFrom: from, CreatedBefore: before, Sort: CampaignSort.Created, Descending: false), 50, null);

        Assert.Equal(["Autumn news", "Été 100%_off", null], page.Rows.Select(r => r.Name));
    }

    [Fact]
    public async Task Search_status_and_dates_combine()
    {
        var page = await Queries.CampaignsAsync(new CampaignFilter(Search: "sale", Statuses: [OperationStatus.Canceled], CreatedFrom: Day, CreatedBefore: Day.AddDays(1)), 50, null);

        Assert.Equal(["spring sale"], page.Rows.Select(r => r.Name));
    }

    private IEnumerable<string> Expected(CampaignSort sort, bool descending)
    {
        var rows = _app.Created.Select((id, i) => (Id: id, Row: Rows[i])).ToList();
        IOrderedEnumerable<(string Id, (string? Name, OperationStatus Status, long Total, DateTimeOffset CreatedAt) Row)> ordered = (sort, descending) switch
        {
            (CampaignSort.Name, false) => rows.OrderBy(r => r.Row.Name ?? "", StringComparer.OrdinalIgnoreCase),
            (CampaignSort.Name, true) => rows.OrderByDescending(r => r.Row.Name ?? "", StringComparer.OrdinalIgnoreCase),
            (CampaignSort.Status, false) => rows.OrderBy(r => r.Row.Status),
            (CampaignSort.Status, true) => rows.OrderByDescending(r => r.Row.Status),
            (CampaignSort.Size, false) => rows.OrderBy(r => r.Row.Total),
            (CampaignSort.Size, true) => rows.OrderByDescending(r => r.Row.Total),
            (_, false) => rows.OrderBy(r => r.Row.CreatedAt),
            _ => rows.OrderByDescending(r => r.Row.CreatedAt),
        };
        // Ties go by creation (the ID), in the sort's direction.
        var index = rows.ToDictionary(r => r.Id, r => rows.IndexOf(r));
        return (descending ? ordered.ThenByDescending(r => index[r.Id]) : ordered.ThenBy(r => index[r.Id])).Select(r => r.Id);
    }

    /// <summary>An app whose only operations are <see cref="Rows"/>, written straight to its database.</summary>
    public sealed class ListApp : AppFactory, IAsyncLifetime
    {
        public List<string> Created { get; } = [];

        public async Task InitializeAsync()
        {
            CreateClient().Dispose();
            await using var db = await Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
            var sender = new Sender { Address = "+13125550170", Channel = "SMS", Mps = 10, CreatedAt = Day, UpdatedAt = Day };
            db.Add(sender);
            await db.SaveChangesAsync();
            foreach (var (name, status, total, createdAt) in Rows)
            {
                var operation = new Operation
                {
                    Name = name, Status = status, Total = total, SenderId = sender.Id, FromAddress = sender.Address, FromChannel = "SMS",
                    ContentJson = "{}", CreatedAt = createdAt, UpdatedAt = createdAt,
                };
                db.Add(operation);
                await db.SaveChangesAsync();
                Created.Add(PublicId.Encode(PublicId.Operation, operation.Id));
            }
        }

        Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;
    }
}

/// <summary>The dashboard's first-run checklist reads each step from what exists.</summary>
public sealed class FirstRunStepsTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task Each_first_step_is_ticked_once_its_thing_exists()
    {
        var queries = app.Services.GetRequiredService<CampaignQueries>();
        Assert.Equal(new FirstRunSteps(false, false, false, false), await queries.FirstRunAsync());

        using var api = app.CreateApiClient();
        await DispatchTestKit.CreateSenderAsync(api, "+13125550180", 10);
        Assert.Equal(new FirstRunSteps(true, false, false, false), await queries.FirstRunAsync());

        await DispatchTestKit.InsertGroupAsync(app.Database.ConnectionString, [(DispatchTestKit.Number(8000), "{}")]);
        Assert.Equal(new FirstRunSteps(true, true, false, false), await queries.FirstRunAsync());

        await app.Services.GetRequiredService<ContentService>().CreateAsync("Welcome", new MessageContent { Text = "Hi" });
        Assert.Equal(new FirstRunSteps(true, true, true, false), await queries.FirstRunAsync());

        await DispatchTestKit.SendAsync(api, new { from = new { address = "+13125550180", channel = "SMS" }, to = new[] { new { address = DispatchTestKit.Number(8001) } }, content = new { text = "Hi" } });
        var steps = await queries.FirstRunAsync();
        Assert.True(steps.AllDone);
    }
}
