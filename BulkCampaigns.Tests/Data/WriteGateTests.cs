using BulkCampaigns.Data;
using Microsoft.Data.Sqlite;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Data;

[Trait(DatabaseTrait.Name, DatabaseTrait.None)]
public sealed class WriteGateTests : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "bulkcampaigns-tests", Guid.NewGuid().ToString("N"));
    private DatabaseConnection _database = null!;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        _database = new DatabaseConnection($"Data Source={Path.Combine(_folder, "gate.db")}");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Every_writer_gets_the_same_open_connection_one_at_a_time()
    {
        await using var gate = new WriteGate(_database);
        SqliteConnection first;
        using (var lease = await gate.EnterAsync())
        {
            first = lease.Connection;
            var second = gate.EnterAsync();
            await Task.Delay(50);
            Assert.False(second.IsCompleted);
            lease.Dispose();
            using var next = await second;
            Assert.Same(first, next.Connection);
        }
        Assert.Equal(System.Data.ConnectionState.Open, first.State);
    }

    [Fact]
    public async Task Waiting_writers_go_before_a_waiting_background_writer()
    {
        await using var gate = new WriteGate(_database, backgroundTurn: TimeSpan.FromMinutes(5));
        var order = new List<string>();
        var holder = await gate.EnterAsync();
        var background = Take(gate.EnterBackgroundAsync(), "background", order);
        var foreground = Take(gate.EnterAsync(), "foreground", order);
        await Task.Delay(20);
        holder.Dispose();
        await Task.WhenAll(background, foreground);
        Assert.Equal(["foreground", "background"], order);
    }

    [Fact]
    public async Task A_background_writer_gets_its_turn_even_while_others_keep_waiting()
    {
        await using var gate = new WriteGate(_database, backgroundTurn: TimeSpan.FromMilliseconds(50));
        var order = new List<string>();
        var holder = await gate.EnterAsync();
        var background = Take(gate.EnterBackgroundAsync(), "background", order);
        var foreground = Take(gate.EnterAsync(), "foreground", order);
        await Task.Delay(120);
        holder.Dispose();
        await Task.WhenAll(background, foreground);
        Assert.Equal(["background", "foreground"], order);
    }

    [Fact]
    public async Task A_canceled_wait_leaves_the_queue_and_the_next_writer_is_not_held_up()
    {
        await using var gate = new WriteGate(_database);
        var holder = await gate.EnterAsync();
        using var cancel = new CancellationTokenSource();
        var waiting = gate.EnterAsync(cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        holder.Dispose();
        var next = gate.EnterAsync();
        Assert.True(next.IsCompletedSuccessfully);
        (await next).Dispose();
    }

    private static async Task Take(Task<WriteGate.Lease> enter, string name, List<string> order)
    {
        using var lease = await enter;
        lock (order)
        {
            order.Add(name);
        }
        await Task.Delay(10);
    }
}
