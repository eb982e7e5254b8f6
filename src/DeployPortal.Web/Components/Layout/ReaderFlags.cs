namespace DeployPortal.Web.Components.Layout;

/// <summary>
/// A reader's on/off choices that portal.js keeps in cookies and every page renders on <c>&lt;html&gt;</c> (as
/// <c>data-tried</c>, <c>data-compact</c>, <c>data-demo-seen</c>), so theme.css applies them before anything draws: the
/// board's "try this" card dismissed, the compact board, the one-line demo note hidden.
/// </summary>
public static class ReaderFlags
{
    /// <summary>The board's one-time "try this" card was dismissed.</summary>
    public const string Tried = "portal-tried";

    /// <summary>The board is compact (40 slots on one laptop screen).</summary>
    public const string Compact = "portal-compact";

    /// <summary>The demo note (development sign-in, emulated cluster) was hidden.</summary>
    public const string DemoSeen = "portal-demo-seen";

    /// <summary>An empty attribute value when the flag's cookie is set, else null (no attribute).</summary>
    public static string? Of(HttpContext? http, string cookie) => http?.Request.Cookies[cookie] == "1" ? "" : null;
}
