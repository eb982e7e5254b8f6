using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// The board's filter bar as markup: the show links (All, Free, Mine, Held) and the options of the app and holder
/// choices. Each is one render-tree frame on every open board instead of about forty, shared by the boards that show
/// the same thing: the unfiltered board's links are constants and the options are built once per snapshot of the slots
/// (docs/adr/0001 says why the board renders markup). Links work as any link does (Blazor's navigation takes them); the
/// selects keep their <c>@onchange</c> in <c>Board.razor</c>.
/// </summary>
internal static class BoardFilterMarkup
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    private static readonly string?[] AllShows = [null, .. BoardFilter.Shows];

    // All, Free, Mine, Held with nothing else filtered: the links of almost every open board.
    private static readonly MarkupString[] Unfiltered = [.. AllShows.Select(show => Links(new BoardFilter(show, null)))];

    // The options when nothing is chosen, per snapshot of the slots (the snapshot is shared by every open board).
    private static readonly ConditionalWeakTable<IReadOnlyList<SlotCard>, Options> Unchosen = new();

    private sealed record Options(MarkupString Apps, MarkupString Holders);

    /// <summary>What a show link says: All, Free, Mine or Held.</summary>
    public static string Label(string? show) => show switch
    {
        null => "All",
        "free" => "Free",
        "mine" => "Mine",
        _ => "Held",
    };

    /// <summary>The show links for <paramref name="filter"/>: each keeps the rest of the filter, the chosen one marked current.</summary>
    public static MarkupString ShowLinks(BoardFilter filter) =>
        filter is { Query: null, App: null, Holder: null } ? Unfiltered[Array.IndexOf(BoardFilter.Shows, filter.Show) + 1] : Links(filter);

    /// <summary>The app choice's options: any app, then the apps running on the board, <paramref name="chosen"/> selected (kept when no longer running).</summary>
    public static MarkupString AppOptions(IReadOnlyList<SlotCard>? slots, string? chosen) =>
        chosen is null && slots is not null ? Unchosen.GetValue(slots, Build).Apps : Apps(slots, chosen);

    /// <summary>The holder choice's options: anyone, then the people holding slots by name, <paramref name="chosen"/> selected (kept when they hold nothing now).</summary>
    public static MarkupString HolderOptions(IReadOnlyList<SlotCard>? slots, string? chosen) =>
        chosen is null && slots is not null ? Unchosen.GetValue(slots, Build).Holders : Holders(slots, chosen);

    private static Options Build(IReadOnlyList<SlotCard> slots) => new(Apps(slots, null), Holders(slots, null));

    private static MarkupString Links(BoardFilter filter)
    {
        var html = new StringBuilder();
        foreach (var show in AllShows)
        {
            html.Append($"<a href=\"{Html.Encode((filter with { Show = show }).Href())}\" class=\"portal-filter\"")
                .Append(filter.Show == show ? " aria-current=\"true\"" : "")
                .Append($" data-testid=\"board-show-{show ?? "all"}\">{Label(show)}</a>");
        }

        return new(html.ToString());
    }

    private static MarkupString Apps(IReadOnlyList<SlotCard>? slots, string? chosen)
    {
        var apps = slots is null ? [] : BoardFilter.ChoicesOn(slots).Apps;
        var html = new StringBuilder(Option("", "Any app", chosen is null));
        foreach (var app in apps)
        {
            html.Append(Option(app, app, string.Equals(app, chosen, StringComparison.OrdinalIgnoreCase)));
        }

        if (chosen is not null && !apps.Contains(chosen, StringComparer.OrdinalIgnoreCase))
        {
            html.Append(Option(chosen, chosen, true));
        }

        return new(html.ToString());
    }

    private static MarkupString Holders(IReadOnlyList<SlotCard>? slots, string? chosen)
    {
        var holders = slots is null ? [] : BoardFilter.ChoicesOn(slots).Holders;
        var html = new StringBuilder(Option("", "Anyone", chosen is null));
        foreach (var (id, name) in holders)
        {
            html.Append(Option(id, name, id == chosen));
        }

        if (chosen is not null && holders.All(h => h.Id != chosen))
        {
            html.Append(Option(chosen, chosen, true));
        }

        return new(html.ToString());
    }

    private static string Option(string value, string text, bool selected) =>
        $"<option value=\"{Html.Encode(value)}\"{(selected ? " selected" : "")}>{Html.Encode(text)}</option>";
}
