namespace DeployPortal.Web.Components.Layout;

/// <summary>
/// Whether a reader has hidden the one-line demo note (development sign-in, emulated cluster): a cookie set by
/// portal.js, rendered on <c>&lt;html data-demo-seen&gt;</c> with every page so the note never flashes up again.
/// </summary>
public static class DemoBannerChoice
{
    public const string Cookie = "portal-demo-seen";

    public static string? Of(HttpContext? http) => http?.Request.Cookies[Cookie] == "1" ? "" : null;
}
