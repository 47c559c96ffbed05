using BulkCampaigns.Data;
using BulkCampaigns.Dispatch;
using Microsoft.Extensions.DependencyInjection;
using BulkCampaigns.Tests.Infrastructure;
using static BulkCampaigns.Tests.Dispatch.DispatchTestKit;

namespace BulkCampaigns.Tests.Dispatch;

/// <summary>On the default provider (SQLite unless BULKCAMPAIGNS_TEST_PROVIDER says otherwise).</summary>
public sealed class ConcurrentClaimTests(ExactSimulatorApp app) : ConcurrentClaimTests<ExactSimulatorApp>(app);

/// <summary>On PostgreSQL, where claimers are not queued in one process: they may be on several nodes.</summary>
[Trait(DatabaseTrait.Name, DatabaseTrait.Both)]
public sealed class ConcurrentClaimTestsOnPostgres(PostgresExactSimulatorApp app) : ConcurrentClaimTests<PostgresExactSimulatorApp>(app);

/// <summary>Claims made at the same moment, straight on the engine store (as batch jobs on several workers would).</summary>
public abstract class ConcurrentClaimTests<TApp>(TApp app) : IClassFixture<TApp>
    where TApp : Infrastructure.AppFactory
{
    [Fact]
    public async Task Many_claimers_of_the_same_range_at_once_hand_each_message_to_exactly_one_of_them()
    {
        var (operationId, first, last) = await ProcessingOperationAsync("+14155550301", 0, 40);
        var store = app.Services.GetRequiredService<IEngineStore>();

        // Connections opened first, so the claims themselves start together.
        var readers = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => store.OpenReaderAsync(CancellationToken.None)));
        using var start = new SemaphoreSlim(0);
        var claiming = readers.Select(async reader =>
        {
            await start.WaitAsync();
            return await store.ClaimAsync(reader, operationId, first, last, DateTimeOffset.UtcNow, app.Services.GetRequiredService<CurrentNode>().Lease, CancellationToken.None);
        }).ToList();
        start.Release(readers.Length);
        var claims = await Task.WhenAll(claiming);
        foreach (var reader in readers)
        {
            await reader.DisposeAsync();
        }

        var claimed = claims.SelectMany(c => c.Select(m => m.Id)).ToList();
        Assert.Equal(40, claimed.Count);
        Assert.Equal(claimed.Count, claimed.Distinct().Count());
        Assert.Single(claims, c => c.Count > 0);
        Assert.Equal(1, await app.ScalarAsync($"""SELECT COUNT(*) FROM "ClaimedBatches" WHERE "OperationId" = {operationId}"""));
        Assert.Equal(40, await app.ScalarAsync($"""SELECT "Sending" FROM "Operations" WHERE "Id" = {operationId}"""));
        Assert.Equal(0, await app.ScalarAsync($"""SELECT "Queued" FROM "Operations" WHERE "Id" = {operationId}"""));
    }

    [Fact]
    public async Task Claimers_of_different_ranges_at_once_each_get_their_own_range_whole()
    {
        var (operationId, first, _) = await ProcessingOperationAsync("+14155550302", 100, 40);
        var store = app.Services.GetRequiredService<IEngineStore>();

        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(async k =>
        {
            await using var reader = await store.OpenReaderAsync(CancellationToken.None);
            return await store.ClaimAsync(reader, operationId, first + k * 10, first + k * 10 + 9, DateTimeOffset.UtcNow, app.Services.GetRequiredService<CurrentNode>().Lease, CancellationToken.None);
        }));

        Assert.All(claims, c => Assert.Equal(10, c.Count));
        Assert.Equal(40, claims.SelectMany(c => c.Select(m => m.Id)).Distinct().Count());
        Assert.Equal(4, await app.ScalarAsync($"""SELECT COUNT(*) FROM "ClaimedBatches" WHERE "OperationId" = {operationId}"""));
        Assert.Equal(40, await app.ScalarAsync($"""SELECT "Sending" FROM "Operations" WHERE "Id" = {operationId}"""));
    }

    /// <summary>An operation made for later and started through the store: PROCESSING with its messages QUEUED, and no batch job of its own.</summary>
    private async Task<(long OperationId, long First, long Last)> ProcessingOperationAsync(string from, int firstNumber, int count)
    {
        using var client = app.CreateApiClient();
        await CreateSenderAsync(client, from, 1000);
        var id = await SendAsync(client, new
        {
            from = new { address = from },
            to = Enumerable.Range(firstNumber, count).Select(i => new { address = Number(9600 + i) }).ToArray(),
            content = new { text = "Claimed once" },
            schedule = new { sendAt = new[] { DateTimeOffset.UtcNow.AddHours(1).ToString("O") } },
        });
        Assert.True(PublicId.TryDecode(PublicId.Operation, id, out var operationId));
        Assert.True(await app.Services.GetRequiredService<IEngineStore>().StartAsync(operationId, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), CancellationToken.None));
        var first = await app.ScalarAsync($"""SELECT MIN("Id") FROM "Messages" WHERE "OperationId" = {operationId}""");
        var last = await app.ScalarAsync($"""SELECT MAX("Id") FROM "Messages" WHERE "OperationId" = {operationId}""");
        Assert.Equal(count - 1, last - first);
        return (operationId, first, last);
    }
}
