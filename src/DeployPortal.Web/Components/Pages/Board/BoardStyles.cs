using System.Collections.Concurrent;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// The class names of the board's chips, buttons and icons: the portal's own (<c>portal-chip</c>, <c>portal-button</c>,
/// <c>portal-icon</c>, styled in <c>wwwroot-assets/theme.css</c> with the MudBlazor theme's palette variables), never
/// MudBlazor's internal component classes, which a MudBlazor upgrade may rename (docs/adr/0001). Each string is built
/// once and shared, so thousands of open boards' render trees point at the same instances rather than holding copies.
/// </summary>
internal static class BoardStyles
{
    private static readonly ConcurrentDictionary<(Variant, Color), string> Chips = new();
    private static readonly ConcurrentDictionary<(Variant, Color), string> Buttons = new();
    private static readonly ConcurrentDictionary<(string Svg, bool Small), MarkupString> Icons = new();

    /// <summary>A small chip, filled or outlined, in one of the theme's colours.</summary>
    public static string Chip(Color color, Variant variant = Variant.Filled) => Chips.GetOrAdd((variant, color), static key =>
        $"portal-chip portal-chip-{Name(key.Item1)} portal-color-{Name(key.Item2)}");

    /// <summary>A button (or a link that looks like one), filled, outlined or text, in one of the theme's colours.</summary>
    public static string Button(Variant variant, Color color) => Buttons.GetOrAdd((variant, color), static key =>
        $"portal-button portal-button-{Name(key.Item1)} portal-color-{Name(key.Item2)}");

    /// <summary>An icon's path data (one of <see cref="MudBlazor.Icons"/>, plain SVG) as an inline, decorative <c>svg</c>.</summary>
    public static MarkupString Icon(string svg, bool small = false) => Icons.GetOrAdd((svg, small), static key => new MarkupString(
        $"<svg class=\"portal-icon{(key.Small ? " portal-icon-small" : "")}\" focusable=\"false\" viewBox=\"0 0 24 24\" aria-hidden=\"true\">{key.Svg}</svg>"));

    private static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}
