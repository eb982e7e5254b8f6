using DeployPortal.Web.Slots;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// Which slots a board shows, as kept in its address (<c>?show=free|mine|held&amp;q=text</c>), so a filtered board
/// is a link to share. The filter values are all an open board keeps: with no filter it shows the shared snapshot
/// itself, and only a filtered board holds a list of its own (references into that snapshot).
/// </summary>
internal readonly record struct BoardFilter(string? Show, string? Query)
{
    public static readonly string[] Shows = ["free", "mine", "held"];

    /// <summary>The filter from the address; an unknown <c>show</c> is ignored rather than hiding every slot.</summary>
    public static BoardFilter From(string? show, string? query) =>
        new(Shows.FirstOrDefault(s => string.Equals(s, show?.Trim(), StringComparison.OrdinalIgnoreCase)),
            string.IsNullOrWhiteSpace(query) ? null : query.Trim());

    public bool IsEmpty => Show is null && Query is null;

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

    public bool Matches(SlotCard slot, string? me) => MatchesShow(slot, me) && MatchesQuery(slot);

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
