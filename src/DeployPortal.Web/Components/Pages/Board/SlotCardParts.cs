using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// A card's markup, shared by every open board that shows the same card with the same wording. Boards read the same
/// <see cref="SlotCard"/> instances (<see cref="BoardSnapshot"/> keeps a card's instance until its slot changes), so
/// the markup is built once per slot change and wording, and thousands of boards hold one copy instead of one each.
/// </summary>
internal sealed class SlotCardParts
{
    // Per card instance: dropped with it once no snapshot or board refers to the card any more.
    private static readonly ConditionalWeakTable<SlotCard, ConcurrentDictionary<SlotCardShown, SlotCardParts>> Built = new();

    private MarkupString? _card;

    private SlotCardParts(SlotCardShown key)
    {
        Key = key;
        Head = SlotCardMarkup.Head(key);
        Body = SlotCardMarkup.Body(key);
        Deployments = SlotCardMarkup.Deployments(key);
        DeployLink = SlotCardMarkup.DeployLink(key.Slot);
    }

    /// <summary>The shared copy of what the card shows: a card keeps it rather than its own equal values.</summary>
    public SlotCardShown Key { get; }

    public MarkupString Head { get; }

    public MarkupString Body { get; }

    public MarkupString Deployments { get; }

    public string DeployLink { get; }

    /// <summary>The card without buttons or menus; built when first asked for.</summary>
    public MarkupString Card => _card ??= SlotCardMarkup.Card(Key.Actions.State, Key.Slot.Name, Head, Body, Deployments);

    /// <summary>The shared parts for what a card shows, built by the first board that needs them.</summary>
    public static SlotCardParts For(SlotCardShown shown)
    {
        var forSlot = Built.GetOrCreateValue(shown.Slot);
        if (forSlot.Count > 32)
        {
            forSlot.Clear(); // a slot unchanged for hours collects a wording per minute; the boards keep what they use
        }

        return forSlot.GetOrAdd(shown, static s => new SlotCardParts(s));
    }

    /// <summary>
    /// The whole card as markup when it has nothing to press or open (every card on a viewer's board, other people's
    /// holds on anyone's): the board then renders it as one shared string rather than as a component, which saves each
    /// open board the component's render-tree buffers and state. Null when the card has buttons or menus.
    /// </summary>
    public static MarkupString? ReadOnlyCard(SlotCard slot, SlotActions actions, SlotCardContext context, bool busy) =>
        actions.CanAdminister || SlotCardShown.HasActions(slot, actions, context, busy)
            ? null
            : For(SlotCardShown.For(slot, actions, context, disabled: false, [])).Card;
}
