using System.Net;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Auth;

/// <summary>
/// Bound from <c>Auth:PlainHttp</c>. Outside Development the portal's cookies are Secure (and <c>__Host-</c>), which
/// browsers refuse over plain HTTP. A demo on one machine (docker-compose) has no TLS, so an operator can allow plain
/// HTTP for requests addressed to this machine only: <c>localhost</c>, <c>*.localhost</c>, 127.0.0.0/8 or ::1.
/// </summary>
internal sealed class PlainHttpOptions
{
    public const string Section = "Auth:PlainHttp";

    public bool AllowOnLoopback { get; set; }
}

internal static class PlainHttpGuard
{
    /// <summary>
    /// Outside Development a browser page over plain HTTP cannot work (the cookies are Secure), so it gets a sentence
    /// saying what to do rather than an error from deep in the antiforgery system. With
    /// <see cref="PlainHttpOptions.AllowOnLoopback"/>, requests addressed to this machine pass, so the relaxed cookies
    /// never travel in clear over a network. Health, metrics and the token-authenticated API are not browser pages
    /// and stay reachable (probes and scrapers use the pod's address).
    /// </summary>
    public static WebApplication UsePlainHttpGuard(this WebApplication app)
    {
        if (app.Environment.IsDevelopment())
        {
            return app;
        }

        var allowLoopback = app.Services.GetRequiredService<IOptions<PlainHttpOptions>>().Value.AllowOnLoopback;
        app.Use(async (http, next) =>
        {
            var path = http.Request.Path;
            if (http.Request.IsHttps || (allowLoopback && IsLoopback(http.Request.Host.Host))
                || path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz")
                || path.StartsWithSegments("/metrics") || path.StartsWithSegments("/api"))
            {
                await next(http);
                return;
            }

            http.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync(allowLoopback
                ? "This portal allows plain HTTP only at localhost (Auth:PlainHttp:AllowOnLoopback). Open it over https://, or at http://localhost."
                : "This portal needs HTTPS: run it behind a TLS proxy (with ASPNETCORE_FORWARDEDHEADERS_ENABLED=true), "
                  + "or, for a demo on one machine, set Auth:PlainHttp:AllowOnLoopback=true and open it at http://localhost.");
        });
        return app;
    }

    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
