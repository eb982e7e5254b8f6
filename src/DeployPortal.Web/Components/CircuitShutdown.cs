namespace DeployPortal.Web.Components;

public static class CircuitShutdown
{
    /// <summary>
    /// Lets the portal stop within seconds while pages are open. On SIGTERM SignalR closes the circuits' connections,
    /// but the browsers reconnect at once, and Kestrel then waits for those new connections until the host's shutdown
    /// timeout (30 s, the container's whole grace period), after which every later hosted service is cancelled
    /// (Hangfire's stop then throws, unhandled). Known: dotnet/aspnetcore#58947. Once stopping, circuit requests are
    /// refused with 503 and those under way are aborted; the page shows its reconnect banner and reconnects to
    /// another replica or to the restarted portal.
    /// </summary>
    public static WebApplication UseCircuitShutdown(this WebApplication app)
    {
        var stopping = app.Lifetime.ApplicationStopping;
        app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/_blazor"))
            {
                await next(context);
                return;
            }

            if (stopping.IsCancellationRequested)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            using var abort = stopping.Register(static c => ((HttpContext)c!).Abort(), context);
            await next(context);
        });
        return app;
    }
}
