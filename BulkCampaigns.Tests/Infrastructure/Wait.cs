namespace BulkCampaigns.Tests.Infrastructure;

/// <summary>Polling for something the app does in the background (no timed assertion: the limit only stops a hung test).</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<Task<bool>> done, string what, int timeoutSeconds = 90)
    {
        var until = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < until, $"waited {timeoutSeconds} s for {what}");
            await Task.Delay(50);
        }
    }

    public static Task UntilAsync(Func<bool> done, string what, int timeoutSeconds = 90) =>
        UntilAsync(() => Task.FromResult(done()), what, timeoutSeconds);
}
