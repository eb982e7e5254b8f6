using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// The minutely sweep over active holds (run by <see cref="HoldExpiryJob"/>): reminds holders whose hold ends soon
/// and releases holds past their end. Every step is a conditional update, so two runs or two replicas do it once.
/// </summary>
internal sealed class HoldSweep(
    IDbContextFactory<PortalDb> dbFactory,
    SlotChangeNotifier notifier,
    TimeProvider clock,
    IOptionsMonitor<HoldOptions> holdOptions,
    HoldEndings endings,
    PortalEvents events,
    ILogger<HoldSweep> logger)
{
    private HoldOptions Options => holdOptions.CurrentValue;

    private DateTime Now => DbTime.UtcNow(clock);

    /// <summary>
    /// Sends the "your hold ends soon" reminder for every active hold within <see cref="HoldOptions.RemindBefore"/>
    /// of its end, once per end time: the reminder is recorded with a conditional update, so a second run of the
    /// job (or a second replica) sends nothing, while an extension re-arms it for the new end.
    /// </summary>
    public async Task<int> RemindDueHoldsAsync(CancellationToken ct = default)
    {
        var now = Now;
        var horizon = now + Options.RemindBefore;
        await using var db = dbFactory.CreateDbContext();
        var due = await db.Holds.AsNoTracking().Include(h => h.Slot)
            .Where(h => h.ReleasedAt == null && h.Until > now && h.Until <= horizon && (h.RemindedFor == null || h.RemindedFor != h.Until))
            .ToListAsync(ct);
        var sent = 0;
        foreach (var hold in due)
        {
            var marked = await db.Holds.Where(h => h.Id == hold.Id && h.ReleasedAt == null && h.Until == hold.Until && (h.RemindedFor == null || h.RemindedFor != h.Until))
                .ExecuteUpdateAsync(s => s.SetProperty(h => h.RemindedFor, hold.Until), ct);
            if (marked == 0)
            {
                continue;
            }

            sent++;
            var left = TimeText.Duration(hold.Until - now);
            AuditWriter.Write(db, Actor.System, AuditActions.Remind, hold.Slot, $"Reminded {hold.HolderName}: the hold ends in {left}", now);
            await db.SaveChangesAsync(ct);
            var room = Options.RoomToExtend(hold.Since, hold.Until, now);
            events.Raise(new PortalEvent(PortalEventKind.HoldExpiring, hold.Slot!.Name, hold.HolderId, hold.HolderName,
                $"Your hold on {hold.Slot.Name} ({hold.Purpose}) ends in {left}, at {hold.Until:u}. "
                + (room >= TimeSpan.FromMinutes(1) ? "Extend it on the board if you still need it." : "It has reached its limit and cannot be extended."), "/"));
            notifier.Publish(new SlotChange(hold.SlotId, AuditActions.Remind));
        }

        return sent;
    }

    /// <summary>Releases every hold past its end. Run by the expiry job; safe to run twice or on two replicas at once.</summary>
    public async Task<int> ExpireDueHoldsAsync(CancellationToken ct = default)
    {
        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var due = await db.Holds.AsNoTracking().Include(h => h.Slot).Where(h => h.ReleasedAt == null && h.Until <= now).ToListAsync(ct);
        var expired = 0;
        foreach (var hold in due)
        {
            var updated = await db.Holds.Where(h => h.Id == hold.Id && h.ReleasedAt == null && h.Until <= now).ExecuteUpdateAsync(s => s
                .SetProperty(h => h.ReleasedAt, now)
                .SetProperty(h => h.ReleasedById, Actor.System.Id)
                .SetProperty(h => h.ReleasedByName, Actor.System.Name)
                .SetProperty(h => h.ReleaseReason, ReleaseReason.Expired), ct);
            if (updated == 0)
            {
                continue;
            }

            expired++;
            AuditWriter.Write(db, Actor.System, AuditActions.Expire, hold.Slot, HoldLedger.ExpiredDetails(hold), now);
            await db.SaveChangesAsync(ct);
            await endings.StartTeardownAsync([hold], ct);
            notifier.Publish(new SlotChange(hold.SlotId, AuditActions.Expire));
            endings.RaiseExpired(hold.Slot!, [hold]);
            await endings.OfferToQueueAsync(hold.SlotId);
        }

        if (expired > 0)
        {
            logger.LogInformation("Expired {Count} holds", expired);
        }

        return expired;
    }
}
