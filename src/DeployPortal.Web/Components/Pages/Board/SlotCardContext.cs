using DeployPortal.Web.Slots;
using Microsoft.AspNetCore.Components;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// What all cards of one board share: the board's clock and the reader's time zone, its settings, the person's right
/// to wake slots, how far a hold may still be extended (at the board's time), and the one callback every button goes through (a callback per
/// button and card would be new delegates on every board render, kept in every open board's render trees).
/// The zone comes through here rather than as each card's cascading parameter: a component that takes a changing
/// cascading value keeps a copy of its parameters (a render-tree buffer of at least 32 frames) to replay them, which
/// was 12 such buffers in every open board (see README, Benchmarks). <paramref name="AskAfter"/> is how long a hold may be
/// unused before its holder is asked whether they still need it (null: idle holds are not given back), and
/// <paramref name="AskWhenQueuedAfter"/> the same while someone waits.
/// </summary>
public sealed record SlotCardContext(
    DateTime Now,
    TimeZoneInfo? Zone,
    TimeSpan RemindBefore,
    TimeSpan IdleAfter,
    TimeSpan? AskAfter,
    TimeSpan AskWhenQueuedAfter,
    bool AllowSleep,
    bool CanWake,
    Func<SlotCard, DateTime, IReadOnlyList<TimeSpan>> ExtendChoices,
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
    Keep,
}

/// <summary>A button pressed on a card; <paramref name="By"/> is the extension chosen.</summary>
public sealed record SlotCardRequest(SlotCard Slot, SlotCardCommand Command, TimeSpan By = default);
