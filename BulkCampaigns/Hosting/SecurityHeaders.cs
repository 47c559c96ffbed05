namespace BulkCampaigns.Hosting;

/// <summary>
/// Headers every answer carries: browsers must not guess content types (a CSV export or an uploaded file
/// rendered as HTML), links to other sites get no path or query (they can hold ids), and no other site may frame
/// the app to trick a click (Revoke, Send). The jobs dashboard is never framed at all, not even by the app.
/// </summary>
public static class SecurityHeaders
{
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        // Read now: the dashboard's branch moves /hangfire into PathBase before the answer starts.
        var dashboard = context.Request.Path.StartsWithSegments("/hangfire");
        // Set when the answer starts, so error handlers that clear the response cannot drop them.
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
            headers.XFrameOptions = dashboard ? "DENY" : "SAMEORIGIN";
            if (!headers.ContainsKey("Content-Security-Policy"))
            {
                headers.ContentSecurityPolicy = dashboard ? "frame-ancestors 'none'" : "frame-ancestors 'self'";
            }
            return Task.CompletedTask;
        });
        return next(context);
    });
}
