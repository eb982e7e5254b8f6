using System.Security.Claims;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Extends a hold within the limits of <see cref="HoldOptions"/> (the hard maximum in total and the longest end from
/// now), for its holder only; a conditional update, so a hold released or extended meanwhile is never changed.
/// </summary>
internal sealed class HoldExtension(
    IDbContextFactory<PortalDb> dbFactory,
    SlotChangeNotifier notifier,
    TimeProvider clock,
    IOptionsMonitor<HoldOptions> holdOptions,
    Refusals refusals)
{
    private HoldOptions Options => holdOptions.CurrentValue;

    /// <summary>
    /// Extends a hold. <paramref name="seenUntil"/> is the end the caller saw: when given, an extension that
    /// already happened (a replayed click or request) is reported as a conflict instead of being applied twice.
    /// </summary>
    public async Task<Result<HoldView>> ExtendAsync(ClaimsPrincipal user, int slotId, long holdId, TimeSpan extendBy, DateTime? seenUntil = null,
        CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.HoldSlots))
        {
            return await refusals.RefuseAsync(user, "Your role cannot extend holds.", ct);
        }

        if (extendBy <= TimeSpan.Zero)
        {
            return Fail.Invalid("Choose how much longer you need the slot.");
        }

        var actor = Actor.From(user);
        var now = DbTime.UtcNow(clock);
        await using var db = dbFactory.CreateDbContext();
        var hold = await db.Holds.Include(h => h.Slot).FirstOrDefaultAsync(h => h.Id == holdId && h.SlotId == slotId, ct);
        if (hold?.Slot is null)
        {
            return Fail.NotFound("That hold does not exist.");
        }

        if (hold.ReleasedAt is not null || hold.Until <= now)
        {
            return Fail.Invalid($"Your hold on {hold.Slot.Name} has ended. Claim the slot again if it is free.");
        }

        if (hold.HolderId != actor.Id)
        {
            return await refusals.RefuseAsync(user, $"Only {hold.HolderName} can extend their hold on {hold.Slot.Name}.", ct);
        }

        if (seenUntil is not null && DbTime.Truncate(seenUntil.Value) != DbTime.Truncate(hold.Until))
        {
            return Fail.Conflict($"Your hold on {hold.Slot.Name} was already extended (it now ends {hold.Until:u}). Look at the board and try again.");
        }

        var newUntil = DbTime.Truncate(hold.Until + extendBy);
        var latest = Options.LatestEnd(hold.Since);
        if (newUntil > latest)
        {
            var room = latest - hold.Until;
            return Fail.Invalid($"A hold can last at most {TimeText.Duration(Options.HardMaxTotal)} in total, so your hold on {hold.Slot.Name} must end by {latest:u}; "
                + (room >= TimeSpan.FromMinutes(1) ? $"{TimeText.Duration(room)} more is the most you can add." : "it cannot be extended any further."));
        }

        if (newUntil > now + Options.MaxDuration)
        {
            return Fail.Invalid($"A hold can end at most {TimeText.Duration(Options.MaxDuration)} from now; "
                + $"{TimeText.Duration(now + Options.MaxDuration - hold.Until)} more is the most you can add.");
        }

        // Conditional update: if the hold was released or expired a moment ago, nothing changes.
        var updated = await db.Holds.Where(h => h.Id == holdId && h.ReleasedAt == null && h.Until == hold.Until)
            .ExecuteUpdateAsync(s => s.SetProperty(h => h.Until, newUntil).SetProperty(h => h.LastActivityAt, now).SetProperty(h => h.LastActivityKind, ActivityKind.Extend), ct);
        if (updated == 0)
        {
            return Fail.Conflict($"Your hold on {hold.Slot.Name} changed meanwhile. Look at the board and try again.");
        }

        AuditWriter.Write(db, actor, AuditActions.Extend, hold.Slot, $"by {TimeText.Duration(extendBy)} · until {newUntil:u}", now);
        await db.SaveChangesAsync(ct);
        notifier.Publish(new SlotChange(slotId, AuditActions.Extend));
        (hold.Until, hold.LastActivityAt, hold.LastActivityKind) = (newUntil, now, ActivityKind.Extend);
        return Result<HoldView>.Ok(HoldView.Of(hold));
    }
}
