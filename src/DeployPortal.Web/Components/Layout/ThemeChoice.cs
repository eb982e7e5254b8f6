namespace DeployPortal.Web.Components.Layout;

/// <summary>
/// A reader's light or dark choice, kept in a cookie by the account menu (portal.js) so the server renders it on
/// <c>&lt;html data-theme&gt;</c> with every page: no flash of the wrong theme, and enhanced navigation keeps it.
/// No cookie (or any other value) follows the system setting.
/// </summary>
public static class ThemeChoice
{
    public const string Cookie = "portal-theme";

    public static string? Of(HttpContext? http) => http?.Request.Cookies[Cookie] switch
    {
        "light" => "light",
        "dark" => "dark",
        _ => null,
    };
}
