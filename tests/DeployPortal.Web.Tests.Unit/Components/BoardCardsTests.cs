using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Slots;
using static DeployPortal.Web.Tests.Components.BoardCardsData;

namespace DeployPortal.Web.Tests.Components;

public sealed class BoardCardsTests
{
    private readonly List<int> _componentsUpdated = [];

    [Fact]
    public void ReadOnlyCard_IsWorkedOutOnce_ForTheSameSlotButtonsAndContext()
    {
        var cards = new BoardCards();
        var (slot, context) = (Held("dev:devon"), Context());

        var first = cards.ReadOnlyCard(0, 1, slot, Actions(Viewer, slot), context, busy: false);
        var again = cards.ReadOnlyCard(0, 1, slot, Actions(Viewer, slot), context, busy: true); // reused: nothing it was for changed

        Assert.NotNull(first);
        Assert.Same(first!.Value.Value, again!.Value.Value);
    }

    [Fact]
    public void UnchangedSlots_NeedNoRender()
    {
        var (cards, slots) = Rendered(Viewer, Free(), Held("dev:devon"));

        Assert.True(Update(cards, Viewer, slots, [Free(), Held("dev:devon")]));
        Assert.Empty(_componentsUpdated);
    }

    [Fact]
    public void ChangedReadOnlyCard_RendersTheBoard()
    {
        var (cards, slots) = Rendered(Viewer, Free(), Held("dev:devon"));

        Assert.False(Update(cards, Viewer, slots, [Free(), Held("dev:devon", purpose: "something else")]));
    }

    [Fact]
    public void ComponentCards_AreHandedTheirData_WithoutRenderingTheBoard()
    {
        var mine = Held("dev:dana");
        var (cards, slots) = Rendered(Developer, Free(), mine);

        Assert.True(Update(cards, Developer, slots, [Free(), mine with { Hold = mine.Hold! with { Purpose = "retest" } }]));
        Assert.Equal([1, 2], _componentsUpdated);
    }

    [Fact]
    public void ComponentNotRenderedYet_RendersTheBoard()
    {
        var (cards, slots) = Rendered(Developer, Free());

        Assert.False(cards.TryUpdateInPlace(slots, [Free()], s => Actions(Developer, s), Context(), _ => false, (_, _, _) => false, clockMoved: false));
    }

    [Fact]
    public void SlotsAddedRemovedOrReordered_RenderTheBoard()
    {
        var (cards, slots) = Rendered(Viewer, Free("qa-1", 1), Free("qa-3", 3));

        Assert.False(Update(cards, Viewer, slots, [Free("qa-1", 1)]));
        Assert.False(Update(cards, Viewer, slots, [Free("qa-3", 3), Free("qa-1", 1)]));
    }

    [Fact]
    public void ClockTick_RendersTheBoard_OnlyWhenAReadOnlyCardsWordingMoved()
    {
        var (cards, slots) = Rendered(Viewer, Held("dev:devon"));

        Assert.True(cards.TryUpdateInPlace(slots, slots, s => Actions(Viewer, s), Context(Now.AddSeconds(20)), _ => false, UpdateComponent, clockMoved: true));
        Assert.False(cards.TryUpdateInPlace(slots, slots, s => Actions(Viewer, s), Context(Now.AddMinutes(20)), _ => false, UpdateComponent, clockMoved: true));
    }

    private (BoardCards Cards, IReadOnlyList<SlotCard> Slots) Rendered(SlotRights rights, params SlotCard[] slots)
    {
        var cards = new BoardCards();
        for (var i = 0; i < slots.Length; i++)
        {
            cards.ReadOnlyCard(i, slots.Length, slots[i], Actions(rights, slots[i]), Context(), busy: false);
        }

        return (cards, slots);
    }

    private bool Update(BoardCards cards, SlotRights rights, IReadOnlyList<SlotCard> before, IReadOnlyList<SlotCard> after) =>
        cards.TryUpdateInPlace(before, after, s => Actions(rights, s), Context(), _ => false, UpdateComponent, clockMoved: false);

    private bool UpdateComponent(SlotCard slot, SlotActions actions, bool clockMoved)
    {
        _componentsUpdated.Add(slot.Id);
        return true;
    }
}
