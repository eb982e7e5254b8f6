using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Components.Rendering;
using MudBlazor;

namespace DeployPortal.Web.Components.Layout;

/// <summary>
/// MudBlazor's own variables for the theme's dark palette (render it with <c>IsDarkMode="true"</c>), scoped so they
/// apply when the reader chose dark (<c>html[data-theme=dark]</c>, see <see cref="ThemeChoice"/>) or their system
/// prefers dark and they did not choose light. Built once per theme and rendered statically with each page, like
/// <see cref="SharedThemeProvider"/>, so dark mode costs open pages nothing.
/// </summary>
public sealed class DarkThemeVariables : MudThemeProvider
{
    private static readonly ConditionalWeakTable<MudTheme, string> Stylesheets = new();

    protected override void BuildRenderTree(RenderTreeBuilder builder) =>
        builder.AddMarkupContent(0, Stylesheets.GetValue(GetTheme(), _ => Scoped(BuildTheme())));

    /// <summary>MudBlazor's <c>&lt;style&gt;:root{…}&lt;/style&gt;</c> under the dark selectors instead of <c>:root</c>.</summary>
    internal static string Scoped(string style)
    {
        var open = style.IndexOf('>', style.IndexOf("<style", StringComparison.Ordinal)) + 1; // after <style class='…'>
        var close = style.LastIndexOf("</style>", StringComparison.Ordinal);
        var rules = style[open..close];
        return "<style>"
            + rules.Replace(":root", "html[data-theme=dark]", StringComparison.Ordinal)
            + "@media (prefers-color-scheme: dark) {"
            + rules.Replace(":root", "html:not([data-theme=light])", StringComparison.Ordinal)
            + "}</style>";
    }
}
