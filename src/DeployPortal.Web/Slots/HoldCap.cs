using System.Security.Claims;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>Fair use: how many slots one person may hold at once (<see cref="HoldOptions.MaxHeldPerPerson"/>, <see cref="HoldOptions.MaxHeldPerRole"/>).</summary>
internal sealed class HoldCap(IOptionsMonitor<HoldOptions> holdOptions)
{
    /// <summary>
    /// Refuses a new hold for someone who already holds as many slots as their role allows, offering the slots they
    /// hold. Admins are exempt. A count, not a constraint: one person racing their own two claims can end one over the
    /// cap, which fair use tolerates (exclusivity of a slot is still decided by the database).
    /// </summary>
    public async Task<Failure?> RefusalAsync(PortalDb db, ClaimsPrincipal user, DateTime now, CancellationToken ct)
    {
        if (user.Can(Policies.Administer) || For(user) is not { } cap)
        {
            return null;
        }

        var id = Actor.From(user).Id;
        var held = await db.Holds.AsNoTracking().Where(h => h.HolderId == id && h.ReleasedAt == null && h.Until > now)
            .OrderBy(h => h.Since).Select(h => h.Slot!.Name).ToListAsync(ct);
        if (held.Count < cap)
        {
            return null;
        }

        var names = held.Count == 1 ? held[0] : string.Join(", ", held[..^1]) + " and " + held[^1];
        return Fail.Conflict($"You hold {names} already — deploy there? "
            + $"At most {cap} {(cap == 1 ? "slot" : "slots")} per person at a time: release one first, or join the queue.");
    }

    /// <summary>The most slots <paramref name="user"/> may hold at once: the largest cap among their roles, else the per-person cap; null for no cap.</summary>
    public int? For(ClaimsPrincipal user)
    {
        var options = holdOptions.CurrentValue;
        var byRole = options.MaxHeldPerRole.Where(r => user.IsInRole(r.Key)).Select(r => (int?)r.Value).Max();
        return byRole ?? options.MaxHeldPerPerson;
    }
}
