using System.Security.Claims;
using DeployPortal.Web.Auth;

namespace DeployPortal.Web.Slots;

public enum SlotState
{
    Free,
    Held,
    Expiring,
    Expired,
    Disabled,
}

/// <summary>
/// What the board shows for one slot and which buttons the current user gets. A courtesy only: the services that
/// act (<see cref="HoldActions"/>, <see cref="SlotAdmin"/>) check every action again. A value: an open board works it
/// out for every card on every slot change, and compares it with the last one.
/// </summary>
public readonly record struct SlotActions(SlotState State, bool IsMine, bool CanClaim, bool CanExtend, bool CanRelease, bool CanQaRelease, bool CanForceRelease, bool CanAdminister, bool CanDeploy)
{
    public static SlotActions For(ClaimsPrincipal user, SlotCard slot, DateTime now, TimeSpan warnBefore) =>
        For(SlotRights.Of(user), slot, now, warnBefore);

    public static SlotActions For(SlotRights rights, SlotCard slot, DateTime now, TimeSpan warnBefore)
    {
        var state = slot switch
        {
            { Enabled: false } => SlotState.Disabled,
            { Hold: null } => SlotState.Free,
            { Hold.Until: var until } when until <= now => SlotState.Expired,
            { Hold.Until: var until } when until - now <= warnBefore => SlotState.Expiring,
            _ => SlotState.Held,
        };

        var mine = slot.Hold is not null && rights.CanHold && slot.Hold.HolderId == rights.ActorId;
        var heldByOther = slot.Hold is not null && !mine;
        return new SlotActions(
            state,
            mine,
            CanClaim: rights.CanHold && state is SlotState.Free or SlotState.Expired,
            CanExtend: mine && state is SlotState.Held or SlotState.Expiring,
            CanRelease: mine,
            CanQaRelease: slot.Hold is not null && rights.CanReleaseAny,
            CanForceRelease: heldByOther && rights.CanAdminister,
            CanAdminister: rights.CanAdminister,
            // An expired hold no longer counts: the service takes the slot as free (the expiry job releases it soon).
            CanDeploy: rights.CanHold && SlotDeployRule.Allows(slot.Enabled, state == SlotState.Expired ? null : slot.Hold?.HolderId, rights.ActorId, rights.CanAdminister));
    }
}

/// <summary>What a person may do with slots, read from their claims once per page rather than per card and change.</summary>
public sealed record SlotRights(string? ActorId, bool CanHold, bool CanReleaseAny, bool CanAdminister)
{
    public static SlotRights Of(ClaimsPrincipal user) => new(
        user.Identity?.IsAuthenticated == true ? Actor.From(user).Id : null,
        user.Can(Policies.HoldSlots),
        user.Can(Policies.ReleaseAnySlot),
        user.Can(Policies.Administer));
}
