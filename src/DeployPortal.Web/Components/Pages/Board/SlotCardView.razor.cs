using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// A slot card that renders only when what it shows changed. When the board re-renders (its clock ticks, an action
/// runs) only the cards whose content or "expires in…" wording moved render; on a slot change the board does not
/// re-render at all but hands the cards their new data through <see cref="Update"/>. What the card only shows is
/// shared markup (<see cref="SlotCardParts"/>); this component adds the buttons, menus and reminders.
/// </summary>
public sealed partial class SlotCardView
{
    private static readonly string ClaimButton = BoardStyles.Button(Variant.Filled, Color.Primary);
    private static readonly string DeployButton = BoardStyles.Button(Variant.Text, Color.Primary);
    private static readonly string ReleaseButton = BoardStyles.Button(Variant.Outlined, Color.Secondary);
    private static readonly string QaButton = BoardStyles.Button(Variant.Outlined, Color.Success);
    private static readonly string SleepButton = BoardStyles.Button(Variant.Text, Color.Default);
    private static readonly string WakeButton = BoardStyles.Button(Variant.Filled, Color.Primary);
    private static readonly string ForceReleaseButton = BoardStyles.Button(Variant.Text, Color.Error);
    private static readonly MarkupString DeployIcon = BoardStyles.Icon(Icons.Material.Filled.RocketLaunch);
    private static readonly MarkupString SleepIcon = BoardStyles.Icon(Icons.Material.Filled.Bedtime);
    private static readonly MarkupString WakeIcon = BoardStyles.Icon(Icons.Material.Filled.WbSunny);

    private SlotCardShown _shown;
    private bool _changed = true;
    private string _deployLink = "";
    private MarkupString _head;
    private MarkupString _body;
    private MarkupString _deployments;

    [Parameter, EditorRequired] public SlotCard Slot { get; set; } = default!;
    [Parameter, EditorRequired] public SlotActions Actions { get; set; }
    [Parameter] public bool Busy { get; set; }

    /// <summary>What every card of the board shares; one object, so each card costs the board few render-tree frames.</summary>
    [Parameter, EditorRequired] public SlotCardContext Context { get; set; } = default!;

    private string StateName => Actions.State.ToString();

    private bool ButtonsDisabled => Busy || !RendererInfo.IsInteractive;

    private DateTime Now => Context.Now;

    private bool HasActions => SlotCardShown.HasActions(Slot, Actions, Context, Busy);

    private IReadOnlyList<TimeSpan> ExtendChoices { get; set; } = [];

    protected override void OnParametersSet() => Recompute();

    /// <summary>
    /// Shows a newer read of this card, or the board's clock moving on, without the board re-rendering: the board
    /// hands each card its new data directly, so only a card whose content or wording changed renders (and the
    /// board's own render and diff of every card are skipped on thousands of open boards).
    /// </summary>
    /// <param name="clockMoved">
    /// The board's clock ticked: the wording of times may have changed. Otherwise an unchanged card keeps its wording
    /// until the next tick, and only a changed card is worked out again (with the board's current time).
    /// </param>
    public void Update(SlotCard slot, SlotActions actions, SlotCardContext context, bool clockMoved = false)
    {
        if (actions == Actions && slot.Equals(Slot) && (!clockMoved || ReferenceEquals(context, Context)))
        {
            return; // nothing this card shows changed
        }

        Slot = slot;
        Actions = actions;
        Context = context;
        Recompute();
        if (_changed)
        {
            StateHasChanged();
        }
    }

    private void Recompute()
    {
        ExtendChoices = Actions.CanExtend ? Context.ExtendChoices(Slot, Context.Now) : [];
        var shown = SlotCardShown.For(Slot, Actions, Context, ButtonsDisabled, ExtendChoices);
        _changed = !shown.Equals(_shown);
        if (_changed)
        {
            var parts = SlotCardParts.For(shown);
            (_head, _body, _deployments, _deployLink) = (parts.Head, parts.Body, parts.Deployments, parts.DeployLink);
            shown = parts.Key; // the shared copy of the same values: this card's own strings become garbage
        }

        _shown = shown;
    }

    protected override bool ShouldRender() => _changed;

    // The current Slot parameter, not the one of the last render: the two are equal when the card skipped a render.
    private Task Send(SlotCardCommand command, TimeSpan by = default) => Context.OnCommand.InvokeAsync(new SlotCardRequest(Slot, command, by));
}
