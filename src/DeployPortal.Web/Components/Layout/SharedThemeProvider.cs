using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Components.Rendering;
using MudBlazor;

namespace DeployPortal.Web.Components.Layout;

/// <summary>
/// <see cref="MudThemeProvider"/> whose theme stylesheet is built once per theme and shared by every page.
/// MudThemeProvider builds the theme's CSS variables (about 12,000 characters) into a new string on each
/// render. App renders this statically with each page, outside the circuit: inside it, every open page kept
/// the provider, a default MudTheme of its own and two copies of its styles, about 10 KB of the 250 KB budget
/// per circuit (see README, Benchmarks). The base class still renders its other styles, with an empty theme block.
/// </summary>
public sealed class SharedThemeProvider : MudThemeProvider
{
    // Keyed by theme instance: the portal has one static theme and no dark mode (nothing sets IsDarkMode, which
    // a subclass may not read), so this holds one string. A dark mode would have to become part of the key.
    private static readonly ConditionalWeakTable<MudTheme, string> Stylesheets = new();
    private bool _suppressThemeVariables;

    protected override void BuildRenderTree(RenderTreeBuilder builder)
    {
        builder.AddMarkupContent(0, Stylesheets.GetValue(GetTheme(), _ => BuildTheme()));
        _suppressThemeVariables = true;
        try
        {
            builder.OpenRegion(1); // the base class numbers its frames from 0 too
            base.BuildRenderTree(builder);
            builder.CloseRegion();
        }
        finally
        {
            _suppressThemeVariables = false;
        }
    }

    protected override void GenerateTheme(StringBuilder theme)
    {
        if (!_suppressThemeVariables)
        {
            base.GenerateTheme(theme);
        }
    }
}
