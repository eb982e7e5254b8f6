using System.Runtime.CompilerServices;
using DeployPortal.Web.Slots;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// Which slots a board shows, as kept in its address (<c>?show=free|mine|held&amp;q=text&amp;app=name&amp;holder=id</c>),
/// so a filtered board is a link to share. The filter values are all an open board keeps: with no filter it shows the shared snapshot
/// itself, and only a filtered board holds a list of its own (references into that snapshot).
/// </summary>
internal readonly record struct BoardFilter(string? Show, string? Query, string? App = null, string? Holder = null)
{
    public static readonly string[] Shows = ["free", "mine", "held"];

    /// <summary>The filter from the address; an unknown <c>show</c> is ignored rather than hiding every slot.</summary>
    public static BoardFilter From(string? show, string? query, string? app = null, string? holder = null) =>
        new(Shows.FirstOrDefault(s => string.Equals(s, show?.Trim(), StringComparison.OrdinalIgnoreCase)), Value(query), Value(app), Value(holder));

    private static string? Value(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    public bool IsEmpty => Show is null && Query is null && App is null && Holder is null;

    /// <summary>
    /// The board's address with this filter: <c>/</c> when it filters nothing, its values as query parameters otherwise.
    /// Every open board renders five of these at every slot change, so the unfiltered board's links are constants and
    /// no address is parsed to build them (NavigationManager's query helpers made about a kilobyte of garbage per link).
    /// </summary>
    public string Href()
    {
        if (Query is null && App is null && Holder is null)
        {
            return Show switch
            {
                null => "/",
                "free" => "/?show=free",
                "mine" => "/?show=mine",
                _ => "/?show=held",
            };
        }

        var values = new[] { ("show", Show), ("q", Query), ("app", App), ("holder", Holder) };
        return "/?" + string.Join('&', values.Where(v => v.Item2 is not null).Select(v => $"{v.Item1}={Uri.EscapeDataString(v.Item2!)}"));
    }

    /// <summary>The slots this filter shows: <paramref name="slots"/> itself when it filters nothing.</summary>
    public IReadOnlyList<SlotCard> Apply(IReadOnlyList<SlotCard> slots, string? me)
    {
        if (IsEmpty)
        {
            return slots;
        }

        var shown = new List<SlotCard>();
        for (var i = 0; i < slots.Count; i++)
        {
            if (Matches(slots[i], me))
            {
                shown.Add(slots[i]);
            }
        }

        return shown;
    }

    public bool Matches(SlotCard slot, string? me) => MatchesShow(slot, me) && MatchesQuery(slot) && MatchesApp(slot) && MatchesHolder(slot);

    // An app the slot runs under its current hold; a holder by their id (names can repeat), case as the sign-in gives it.
    private bool MatchesApp(SlotCard slot)
    {
        if (App is not { } app)
        {
            return true;
        }

        foreach (var d in slot.Deployments)
        {
            if (string.Equals(d.App, app, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private bool MatchesHolder(SlotCard slot) => Holder is null || slot.Hold?.HolderId == Holder;

    // The choices of the app and holder filters, worked out once per snapshot of the slots: every open board renders
    // them at every slot change, and they all show the same shared snapshot.
    private static readonly ConditionalWeakTable<IReadOnlyList<SlotCard>, FilterChoices> ChoicesBySnapshot = new();

    /// <summary>The apps and holders on <paramref name="slots"/>, computed once for each snapshot however many boards show it.</summary>
    public static FilterChoices ChoicesOn(IReadOnlyList<SlotCard> slots) =>
        ChoicesBySnapshot.GetValue(slots, static s => new FilterChoices(AppsOn(s), HoldersOn(s)));

    /// <summary>The apps running on <paramref name="slots"/>, for the board's app filter, in name order.</summary>
    private static IReadOnlyList<string> AppsOn(IReadOnlyList<SlotCard> slots) =>
        [.. slots.SelectMany(s => s.Deployments).Select(d => d.App).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase)];

    /// <summary>The people holding <paramref name="slots"/> (id and name), for the board's holder filter, by name.</summary>
    private static IReadOnlyList<(string Id, string Name)> HoldersOn(IReadOnlyList<SlotCard> slots) =>
        [.. slots.Where(s => s.Hold is not null).Select(s => (s.Hold!.HolderId, s.Hold.HolderName)).DistinctBy(h => h.HolderId).OrderBy(h => h.HolderName, StringComparer.OrdinalIgnoreCase)];

    private bool MatchesShow(SlotCard slot, string? me) => Show switch
    {
        "free" => slot.IsFree,
        "held" => slot.Hold is not null,
        "mine" => slot.Hold is not null && me is not null && slot.Hold.HolderId == me,
        _ => true,
    };

    // Slot name, holder, purpose, and the app and branch of whatever runs there.
    private bool MatchesQuery(SlotCard slot)
    {
        if (Query is not { } q)
        {
            return true;
        }

        if (Has(slot.Name, q) || slot.Hold is { } hold && (Has(hold.HolderName, q) || Has(hold.Purpose, q)))
        {
            return true;
        }

        foreach (var d in slot.Deployments)
        {
            if (Has(d.App, q) || Has(d.Branch, q) || Has($"{d.App}@{d.Branch}", q))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Has(string? text, string q) => text is not null && text.Contains(q, StringComparison.OrdinalIgnoreCase);
}

/// <summary>What the board's app and holder filters offer: the apps running and the people holding slots.</summary>
internal sealed record FilterChoices(IReadOnlyList<string> Apps, IReadOnlyList<(string Id, string Name)> Holders);
