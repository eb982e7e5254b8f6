using DeployPortal.Web.Common;
using DeployPortal.Web.Components.Shared;
using DeployPortal.Web.Slots;

namespace DeployPortal.Web.Components.Pages.Board;

/// <summary>
/// Everything a slot card shows, as values: its slot and buttons, and the wording of its times worked out for the
/// board's clock and the reader's zone. Equal means the card's last render still stands, and it is the key under
/// which boards share the card's markup (<see cref="SlotCardParts"/>).
/// </summary>
internal readonly record struct SlotCardShown(
    SlotCard Slot,
    SlotActions Actions,
    bool Disabled,
    bool CanWake,
    bool AllowSleep,
    (string Short, string Exact) Since,
    string SinceAgo,
    (string Short, string Exact) Until,
    string Expires,
    SlotCardShown.IdleText? Idle,
    bool Reminder,
    string ExtendChoices,
    string? KeepQuestion,
    (string Short, string Exact)? AsleepSince,
    (string Short, string Exact)? VerdictAt,
    (string Short, string Title)? Use,
    string ImageWaits = "")
{
    /// <summary>What the card shows now; <paramref name="disabled"/> is whether its buttons are greyed out.</summary>
    public static SlotCardShown For(SlotCard slot, SlotActions actions, SlotCardContext context, bool disabled, IReadOnlyList<TimeSpan> extendChoices)
    {
        var hold = slot.Hold;
        var now = context.Now;
        return new SlotCardShown(
            slot, actions, disabled, context.CanWake, context.AllowSleep,
            hold is null ? default : LocalTime.Format(hold.Since, context.Zone, now),
            hold is null ? "" : TimeText.Relative(hold.Since, now),
            hold is null ? default : LocalTime.Format(hold.Until, context.Zone, now),
            hold is null ? "" : hold.Until > now ? $"expires {TimeText.Relative(hold.Until, now)}" : "expired, releasing…",
            hold is not null && hold.IsIdle(now, context.IdleAfter)
                ? new IdleText(TimeText.Duration(now - hold.LastActivityAt), $"No deploy or page view since {hold.LastActivityAt:HH:mm} UTC")
                : null,
            actions.IsMine && hold is not null && hold.Until > now && hold.Until - now <= context.RemindBefore,
            string.Join(' ', extendChoices),
            actions.IsMine && hold is { KeepDeadline: { } deadline } && deadline > now
                ? (hold.KeepWaiterName is { } waiter ? $"{waiter} is waiting; your" : "Your")
                  + $" slot has been idle {TimeText.Duration(now - hold.LastActivityAt)}. Keep it or release it: otherwise it is given back {TimeText.Relative(deadline, now)}."
                : null,
            hold is { SleepingSince: { } asleep } ? LocalTime.Format(asleep, context.Zone, now) : null,
            slot.LastVerdict is { } verdict ? LocalTime.Format(verdict.At, context.Zone, now) : null,
            hold is null ? null : HoldUseText.For(hold, context.AskAfter, context.AskWhenQueuedAfter, context.Zone, now),
            ImageWaitLines(slot, context));
    }

    /// <summary>One line per deployment waiting for its image, "id\tsentence" (a string, so equal wording compares equal).</summary>
    private static string ImageWaitLines(SlotCard slot, SlotCardContext context) => string.Join('\n', slot.Deployments.Where(d => d.WaitsForImage)
        .Select(d => $"{d.Id}\t{ImageWaitText.Sentence(d.Image, d.ImageCheckedAt, d.ImageWaitUntil, context.Zone, context.Now)}"));

    /// <summary>The waiting sentence of deployment <paramref name="id"/>, if it waits for its image.</summary>
    public string? ImageWaitOf(long id) => ImageWaits.Split('\n').Select(l => l.Split('\t', 2))
        .FirstOrDefault(p => p.Length == 2 && p[0] == id.ToString(System.Globalization.CultureInfo.InvariantCulture))?[1];

    /// <summary>
    /// Whether the card has a button bar: a viewer's card has no buttons, and no empty button bar either. A card with
    /// neither buttons nor an admin menu is shown as shared markup rather than as a component.
    /// </summary>
    public static bool HasActions(SlotCard slot, SlotActions actions, SlotCardContext context, bool busy) =>
        busy || actions.CanClaim || actions.IsMine || actions.CanDeploy || actions.CanQaRelease || actions.CanForceRelease
        || (slot.Hold is { SleepingSince: not null } && context.CanWake);

    /// <summary>The idle chip: for how long, and since when (its tooltip).</summary>
    public sealed record IdleText(string For, string Title);
}
