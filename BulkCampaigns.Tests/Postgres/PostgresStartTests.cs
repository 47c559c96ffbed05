using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BulkCampaigns.Tests.Infrastructure;

namespace BulkCampaigns.Tests.Postgres;

/// <summary>Starting on PostgreSQL: a server that can't be used is one plain line and a non-zero exit; readiness checks the server.</summary>
public sealed class PostgresStartTests
{
    [Fact]
    public async Task An_unreachable_PostgreSQL_stops_the_start_with_one_line_naming_the_host_and_the_reason()
    {
        var closedPort = AppProcess.FreePort();
        using var app = AppProcess.Start("unused.db", settings: new Dictionary<string, string>
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:BulkCampaigns"] = $"Host=127.0.0.1;Port={closedPort};Username=bulkcampaigns;Database=bulkcampaigns",
        });

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await app.Process.WaitForExitAsync(wait.Token);
        app.Process.WaitForExit(); // the output's last lines are read

        Assert.Equal(1, app.Process.ExitCode);
        var lines = app.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = Assert.Single(lines);
        Assert.Contains($"127.0.0.1:{closedPort}", line, StringComparison.Ordinal);
        Assert.Contains("Connection refused", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_password_is_one_line_with_the_server_s_reason()
    {
        using var database = TestDatabase.Create(TestProvider.Postgres);
        using (var connection = database.OpenPostgres())
        using (var role = connection.CreateCommand())
        {
            role.CommandText = $"CREATE ROLE \"{database.PostgresName}\" LOGIN PASSWORD 'right'";
            role.ExecuteNonQuery();
        }
        // The test server trusts loopback, so a bad password is checked through a role that may not log in at all.
        using (var connection = database.OpenPostgres())
        using (var role = connection.CreateCommand())
        {
            role.CommandText = $"ALTER ROLE \"{database.PostgresName}\" NOLOGIN";
            role.ExecuteNonQuery();
        }
        var connectionString = new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = database.PostgresName, Password = "wrong" }.ConnectionString;
        using var app = AppProcess.Start("unused.db", settings: new Dictionary<string, string>
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:BulkCampaigns"] = connectionString,
        });

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await app.Process.WaitForExitAsync(wait.Token);
        app.Process.WaitForExit();

        Assert.Equal(1, app.Process.ExitCode);
        var line = Assert.Single(app.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("127.0.0.1:", line, StringComparison.Ordinal);
        Assert.Contains("not permitted to log in", line, StringComparison.Ordinal);
        using var cleanup = database.OpenPostgres();
        using var drop = cleanup.CreateCommand();
        drop.CommandText = $"DROP ROLE \"{database.PostgresName}\"";
        drop.ExecuteNonQuery();
    }

    [Fact]
    public async Task Readyz_checks_the_PostgreSQL_database_the_app_uses()
    {
        using var app = new PostgresAppFactory();
        var client = app.CreateClient();

        var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());

        // The database goes away under the running app: it is no longer ready, though still alive.
        using (var connection = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(TestDatabase.PostgresServer()) { Database = "postgres", Pooling = false }.ConnectionString))
        {
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = $"DROP DATABASE \"{app.Database.PostgresName}\" WITH (FORCE)";
            drop.ExecuteNonQuery();
        }
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }
}
