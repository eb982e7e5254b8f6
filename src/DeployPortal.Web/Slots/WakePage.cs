using System.Text.Encodings.Web;
using DeployPortal.Web.Cluster;

namespace DeployPortal.Web.Slots;

/// <summary>
/// The page a visitor of a sleeping app gets: "storefront in qa-2 is asleep — waking it", with the pods coming up.
/// It reloads itself every two seconds; once the apps are ready the wake job points the Ingress back at them, so the
/// next reload is the app itself. Plain HTML without scripts or cookies: it is served on the app's address, over the
/// Ingress's plain-HTTP hop, to people who may not be signed in to the portal.
/// </summary>
public static class WakePage
{
    /// <summary>Seconds between reloads while waking.</summary>
    public const int RefreshSeconds = 2;

    /// <summary>Before the plain-HTTP guard: the hop from the Ingress to the portal is plain HTTP and the page needs no cookies.</summary>
    public static WebApplication UseWakeOnAccess(this WebApplication app)
    {
        var manifests = app.Services.GetRequiredService<ManifestBuilder>();
        app.Use(async (http, next) =>
        {
            if (manifests.ParseHost(http.Request.Host.Host) is null
                || await http.RequestServices.GetRequiredService<WakeOnAccess>().VisitAsync(http.Request.Host.Host, http.RequestAborted) is not { } progress)
            {
                await next(http);
                return;
            }

            http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            http.Response.Headers.RetryAfter = RefreshSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            http.Response.Headers.CacheControl = "no-store";
            http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'";
            http.Response.ContentType = "text/html; charset=utf-8";
            await http.Response.WriteAsync(Html(progress), http.RequestAborted);
        });
        return app;
    }

    /// <summary>The page for <paramref name="p"/>, every value HTML-encoded.</summary>
    public static string Html(WakeProgress p)
    {
        var e = HtmlEncoder.Default;
        var (app, slot) = (e.Encode(p.App), e.Encode(p.Slot));
        var (title, line) = p switch
        {
            { ClusterDown: true } => ($"{app} in {slot} is asleep — waking it", "The cluster is not answering right now. This page keeps trying."),
            { Wanted: 0 } => ($"{app} is not running in {slot}", $"Nothing named {app} is deployed in {slot} at the moment. Deploy it from the portal."),
            { IsReady: true } => ($"{app} in {slot} is awake", "Taking you there…"),
            _ => ($"{app} in {slot} is asleep — waking it", $"{p.Ready} of {p.Wanted} pods ready. This page takes you to the app when it is ready, usually within a minute."),
        };
        var refresh = p.Wanted == 0 && !p.ClusterDown ? "" : $"<meta http-equiv=\"refresh\" content=\"{RefreshSeconds}\">";
        var bar = p.Wanted > 0 ? $"<progress data-testid=\"wake-bar\" value=\"{p.Ready}\" max=\"{p.Wanted}\"></progress>" : "";
        return $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">{refresh}
            <title>{title}</title>
            <style>body{"{"}font-family:system-ui,sans-serif;background:#f5f7fa;color:#1f2933;display:flex;justify-content:center;padding-top:15vh{"}"}
            main{"{"}background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002;padding:2rem 2.5rem;max-width:34rem{"}"}
            h1{"{"}font-size:1.4rem;margin:0 0 1rem{"}"} progress{"{"}width:100%;height:1rem{"}"} small{"{"}color:#52606d{"}"}</style></head>
            <body><main><h1 data-testid="wake-title">{title}</h1>{bar}<p data-testid="wake-progress">{line}</p>
            <small>The slot was put to sleep because nobody used it for a while. DeployPortal scales its apps back up on a visit.</small></main></body></html>
            """;
    }
}
