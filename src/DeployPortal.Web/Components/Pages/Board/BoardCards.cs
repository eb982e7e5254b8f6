using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// One open board's render cache: for each position, the slot read, buttons and shared context it last showed there,
/// and its shared markup when the card has nothing to press (null for a component card). On a slot change or a tick
/// it decides whether the board must render at all, or whether handing each card component its new data is enough.
/// </summary>
internal sealed class BoardCards
{
    private Card[] _cards = []; // per position on the board: what it shows there

    /// <summary>
    /// The card at this position as shared markup when it has nothing to press, noting what this render shows there.
    /// What <see cref="TryUpdateInPlace"/> has just worked out for the same slot, buttons and context is reused.
    /// </summary>
    public MarkupString? ReadOnlyCard(int index, int count, SlotCard slot, SlotActions actions, SlotCardContext context, bool busy)
    {
        if (_cards.Length != count)
        {
            _cards = new Card[count];
        }

        var last = _cards[index];
        if (ReferenceEquals(last.Slot, slot) && last.Actions == actions && ReferenceEquals(last.Context, context))
        {
            return last.Markup;
        }

        _cards[index] = WorkOut(slot, actions, context, busy);
        return _cards[index].Markup;
    }

    /// <summary>
    /// When the same slots are on the board in the same order, hands each card component its new data (through
    /// <paramref name="updateComponent"/>, false when that card has no component yet) instead of re-rendering the
    /// board: a change then renders one card on each open board. True when that was enough; false when the board must
    /// render: a read-only card's markup changed, a card changed between markup and component, or slots were added,
    /// removed or reordered.
    /// </summary>
    public bool TryUpdateInPlace(
        IReadOnlyList<SlotCard> before,
        IReadOnlyList<SlotCard> slots,
        Func<SlotCard, SlotActions> actionsFor,
        SlotCardContext context,
        Func<int, bool> busy,
        UpdateComponent updateComponent,
        bool clockMoved)
    {
        if (before.Count != slots.Count || _cards.Length != slots.Count)
        {
            return false;
        }

        var render = false;
        for (var i = 0; i < slots.Count; i++)
        {
            var slot = slots[i];
            if (slot.Id != before[i].Id)
            {
                return false; // slots added, removed or reordered: the board renders
            }

            var actions = actionsFor(slot);
            var last = _cards[i];
            if (last.Markup is not null && !clockMoved && actions == last.Actions && slot.Equals(last.Slot))
            {
                // A read-only card whose slot did not change keeps its wording until the next tick, as a component does.
                _cards[i] = last with { Slot = slot, Context = context };
                continue;
            }

            var worked = WorkOut(slot, actions, context, busy(slot.Id));
            if (worked.Markup is not null || last.Markup is not null)
            {
                // Noted for the render this may cause, which then reuses it rather than working every card out again.
                _cards[i] = worked;
                render |= worked.Markup?.Value != last.Markup?.Value; // shows something new, or became or stopped being read-only
            }
            else
            {
                render |= !updateComponent(slot, actions, clockMoved);
            }
        }

        return !render;
    }

    /// <summary>Hands a card component its new data; false when the card has no component yet.</summary>
    public delegate bool UpdateComponent(SlotCard slot, SlotActions actions, bool clockMoved);

    private static Card WorkOut(SlotCard slot, SlotActions actions, SlotCardContext context, bool busy) =>
        new(slot, actions, context, SlotCardParts.ReadOnlyCard(slot, actions, context, busy));

    /// <summary>A card as the board last worked it out: the slot read, buttons and context it was for, and its markup when it has no buttons.</summary>
    private readonly record struct Card(SlotCard? Slot, SlotActions Actions, SlotCardContext? Context, MarkupString? Markup);
}
