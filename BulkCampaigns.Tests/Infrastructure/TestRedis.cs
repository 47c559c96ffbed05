namespace BulkCampaigns.Tests.Infrastructure;

/// <summary>
/// The test Redis named by <c>BULKCAMPAIGNS_TEST_REDIS</c> (<c>host:port</c>; started by <c>bash .ci/redis start</c>, which
/// <c>.ci/run</c> does). A test that needs Redis and finds none fails and says how to start it; it never skips.
/// </summary>
public static class TestRedis
{
    public const string ServerVariable = "BULKCAMPAIGNS_TEST_REDIS";

    public static string Address()
    {
        var server = Environment.GetEnvironmentVariable(ServerVariable);
        Assert.False(string.IsNullOrWhiteSpace(server),
            $"This test needs Redis and {ServerVariable} is not set. Start the throw-away test server with `eval \"$(bash .ci/redis start)\"` (bash .ci/run does it), or point {ServerVariable} at a Redis (host:port).");
        return server!;
    }

    /// <summary>A key prefix of its own, so tests sharing the server never share a pace or a signal.</summary>
    public static string NewPrefix() => "bctest:" + Guid.NewGuid().ToString("N")[..12] + ":";
}
