using System.Collections.Concurrent;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace DeployPortal.Web.Components.Shared;

/// <summary>
/// MudBlazor's look without MudBlazor components, for what thousands of people keep open all day: the layout (the
/// board has its own classes: docs/adr/0001-board-renders-cards-as-markup.md). Every component costs a circuit two render-tree buffers, its parameter state and a render on
/// each update; on the board that came to about 220 components and 900 KB per open board, and to a few
/// milliseconds of CPU per board for every slot change (see README, Benchmarks). These helpers give plain
/// elements MudBlazor's CSS classes instead. The strings are built once and shared by every circuit, so the
/// render trees of thousands of boards point at the same instances rather than holding copies.
/// Interactive pieces that need MudBlazor's behaviour (menus, dialogs, snackbars) stay MudBlazor components.
/// </summary>
public static class PlainMud
{
    private static readonly ConcurrentDictionary<(string Svg, Size Size), MarkupString> Icons = new();
    private static readonly ConcurrentDictionary<(Variant, Color, Size), string> Chips = new();
    private static readonly ConcurrentDictionary<(Variant, Color), string> Buttons = new();

    /// <summary>A MudBlazor icon (one of <see cref="MudBlazor.Icons"/>) as the <c>svg</c> MudIcon renders.</summary>
    public static MarkupString Icon(string svg, Size size = Size.Medium) => Icons.GetOrAdd((svg, size), key => new MarkupString(
        $"<svg class=\"mud-icon-root mud-svg-icon mud-icon-size-{Name(key.Size)}\" focusable=\"false\" viewBox=\"0 0 24 24\" aria-hidden=\"true\" role=\"img\">{key.Svg}</svg>"));

    /// <summary>The classes of a MudChip (put the text in a <c>span.mud-chip-content</c>).</summary>
    public static string Chip(Color color, Variant variant = Variant.Filled, Size size = Size.Small) => Chips.GetOrAdd((variant, color, size), key =>
        $"mud-chip mud-chip-{Name(key.Item1)} mud-chip-size-{Name(key.Item3)} mud-chip-color-{Name(key.Item2)}");

    /// <summary>The classes of a medium MudButton (put the text in a <c>span.mud-button-label</c>).</summary>
    public static string Button(Variant variant, Color color) => Buttons.GetOrAdd((variant, color), key =>
        $"mud-button-root mud-button mud-button-{Name(key.Item1)} mud-button-{Name(key.Item1)}-{Name(key.Item2)} mud-button-{Name(key.Item1)}-size-medium mud-ripple");

    private static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}
