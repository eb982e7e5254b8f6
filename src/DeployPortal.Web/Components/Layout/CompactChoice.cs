namespace DeployPortal.Web.Components.Layout;

/// <summary>
/// Whether a reader wants the board compact (40 slots on one laptop screen): a cookie set by portal.js's toggle,
/// rendered on <c>&lt;html data-compact&gt;</c> with every page so the board opens the way it was left (theme.css).
/// </summary>
public static class CompactChoice
{
    public const string Cookie = "portal-compact";

    public static string? Of(HttpContext? http) => http?.Request.Cookies[Cookie] == "1" ? "" : null;
}
