using DeployPortal.Web.Common;
using DeployPortal.Web.Components.Shared;
using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// A slot card that renders only when what it shows changed. When the board re-renders (its clock ticks, an action
/// runs) only the cards whose content or "expires in…" wording moved render; on a slot change the board does not
/// re-render at all but hands the cards their new data through <see cref="Update"/>.
/// </summary>
public sealed partial class SlotCardView
{
    private static readonly Dictionary<SlotState, string> CardClasses = Enum.GetValues<SlotState>()
        .ToDictionary(s => s, s => $"mud-paper mud-elevation-1 mud-card portal-slot portal-slot-{s.ToString().ToLowerInvariant()}");

    private Shown _shown;
    private bool _changed = true;
    private string _link = "";
    private string _deployLink = "";
    private string _caption = "";

    [Parameter, EditorRequired] public SlotCard Slot { get; set; } = default!;
    [Parameter, EditorRequired] public SlotActions Actions { get; set; } = default!;
    [Parameter] public bool Busy { get; set; }

    /// <summary>What every card of the board shares; one object, so each card costs the board few render-tree frames.</summary>
    [Parameter, EditorRequired] public SlotCardContext Context { get; set; } = default!;

    [CascadingParameter] public TimeZoneInfo? Zone { get; set; }

    private string StateName => Actions.State.ToString();

    private bool Disabled => Busy || !RendererInfo.IsInteractive;

    private DateTime Now => Context.Now;

    // A viewer's card has no buttons, and no empty button bar either.
    private bool HasActions => Busy || Actions.CanClaim || Actions.IsMine || Actions.CanQaRelease || Actions.CanForceRelease
        || (Slot.Hold is { SleepingSince: not null } && Context.CanWake);

    private IReadOnlyList<TimeSpan> ExtendChoices { get; set; } = [];

    protected override void OnParametersSet() => Recompute();

    /// <summary>
    /// Shows a newer read of this card without the board re-rendering: on a slot change the board hands each card
    /// its new data directly, so only the card that changed renders (and the board's own render and diff of every
    /// card are skipped on thousands of open boards).
    /// </summary>
    public void Update(SlotCard slot, SlotActions actions, SlotCardContext context)
    {
        if (slot.Equals(Slot) && actions.Equals(Actions))
        {
            return; // nothing this card shows changed; its times move with the board's clock
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
        var hold = Slot.Hold;
        ExtendChoices = Actions.CanExtend ? Context.ExtendChoices(Slot) : [];
        var shown = new Shown(
            Slot, Actions, Disabled, Context.CanWake, Context.AllowSleep,
            hold is null ? default : LocalTime.Format(hold.Since, Zone),
            hold is null ? "" : TimeText.Relative(hold.Since, Now),
            hold is null ? default : LocalTime.Format(hold.Until, Zone),
            hold is null ? "" : hold.Until > Now ? $"expires {TimeText.Relative(hold.Until, Now)}" : "expired, releasing…",
            hold is not null && hold.IsIdle(Now, Context.IdleAfter)
                ? new IdleText(TimeText.Duration(Now - hold.LastActivityAt), $"No deploy or page view since {hold.LastActivityAt:HH:mm} UTC")
                : null,
            Actions.IsMine && hold is not null && hold.Until > Now && hold.Until - Now <= Context.RemindBefore,
            string.Join(' ', ExtendChoices));
        _changed = !shown.Equals(_shown);
        if (_changed && !ReferenceEquals(Slot, _shown.Slot))
        {
            _link = "/slots/" + Uri.EscapeDataString(Slot.Name);
            _deployLink = "/deploy?slot=" + Uri.EscapeDataString(Slot.Name);
            _caption = $"namespace {Slot.Namespace}" + (string.IsNullOrEmpty(Slot.Description) ? "" : $" · {Slot.Description}");
        }

        _shown = shown;
    }

    protected override bool ShouldRender() => _changed;

    // The current Slot parameter, not the one of the last render: the two are equal when the card skipped a render.
    private Task Send(SlotCardCommand command, TimeSpan by = default) => Context.OnCommand.InvokeAsync(new SlotCardRequest(Slot, command, by));

    /// <summary>Everything the card shows, as values: equal means the last render still stands.</summary>
    private readonly record struct Shown(
        SlotCard Slot,
        SlotActions Actions,
        bool Disabled,
        bool CanWake,
        bool AllowSleep,
        (string Short, string Exact) Since,
        string SinceAgo,
        (string Short, string Exact) Until,
        string Expires,
        IdleText? Idle,
        bool Reminder,
        string ExtendChoices);

    private sealed record IdleText(string For, string Title);
}

/// <summary>
/// What all cards of one board share: the board's clock, its settings, the person's right to wake slots, how far a
/// hold may still be extended, and the one callback every button goes through (a callback per button and card
/// would be new delegates on every board render, kept in every open board's render trees).
/// </summary>
public sealed record SlotCardContext(
    DateTime Now,
    TimeSpan RemindBefore,
    TimeSpan IdleAfter,
    bool AllowSleep,
    bool CanWake,
    Func<SlotCard, IReadOnlyList<TimeSpan>> ExtendChoices,
    EventCallback<SlotCardRequest> OnCommand);

public enum SlotCardCommand
{
    Claim,
    Extend,
    Release,
    QaRelease,
    ForceRelease,
    Edit,
    ToggleEnabled,
    Sleep,
    Wake,
}

/// <summary>A button pressed on a card; <paramref name="By"/> is the extension chosen.</summary>
public sealed record SlotCardRequest(SlotCard Slot, SlotCardCommand Command, TimeSpan By = default);
