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
/// What the board shows for one slot and which buttons the current user gets. A courtesy only: the
/// <see cref="SlotService"/> checks every action again.
/// </summary>
public sealed record SlotActions(SlotState State, bool IsMine, bool CanClaim, bool CanExtend, bool CanRelease, bool CanQaRelease, bool CanForceRelease, bool CanAdminister)
{
    public static SlotActions For(ClaimsPrincipal user, SlotCard slot, DateTime now, TimeSpan warnBefore)
    {
        var state = slot switch
        {
            { Enabled: false } => SlotState.Disabled,
            { Hold: null } => SlotState.Free,
            { Hold.Until: var until } when until <= now => SlotState.Expired,
            { Hold.Until: var until } when until - now <= warnBefore => SlotState.Expiring,
            _ => SlotState.Held,
        };

        var canHold = user.Can(Policies.HoldSlots);
        var mine = slot.Hold is not null && canHold && slot.Hold.HolderId == SafeActorId(user);
        var heldByOther = slot.Hold is not null && !mine;
        return new SlotActions(
            state,
            mine,
            CanClaim: canHold && state is SlotState.Free or SlotState.Expired,
            CanExtend: mine && state is SlotState.Held or SlotState.Expiring,
            CanRelease: mine,
            CanQaRelease: slot.Hold is not null && user.Can(Policies.ReleaseAnySlot),
            CanForceRelease: heldByOther && user.Can(Policies.Administer),
            CanAdminister: user.Can(Policies.Administer));
    }

    private static string? SafeActorId(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true ? Actor.From(user).Id : null;
}
