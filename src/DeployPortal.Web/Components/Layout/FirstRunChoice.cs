namespace DeployPortal.Web.Components.Layout;

/// <summary>
/// Whether a reader has dismissed the board's one-time "try this" card: a cookie set by portal.js, rendered on
/// <c>&lt;html data-tried&gt;</c> with every page so the card never flashes up again (theme.css hides it).
/// </summary>
public static class FirstRunChoice
{
    public const string Cookie = "portal-tried";

    public static string? Of(HttpContext? http) => http?.Request.Cookies[Cookie] == "1" ? "" : null;
}
