using System.Security.Claims;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Gives forgotten slots back. A hold idle for <see cref="IdleOptions.ReleaseAfter"/> gets a question for its holder
/// (board and notification: keep it or give it back?); without an answer by the deadline the hold ends through the
/// expiry path (teardown, the next person in line, notifications). When someone waits for a slot like it, the portal
/// asks around for them: holds idle for <see cref="IdleOptions.AskWhenQueuedAfter"/> are asked at once, naming the
/// person waiting, and the shorter <see cref="IdleOptions.AnswerWithinWhenQueued"/> applies.
/// <para>
/// Any activity after the question (a deploy, a page or log view, "keep it") answers it. The end only ever moves a
/// hold's end earlier, never later, so nothing here can keep a hold past its maximum. Every step is a conditional
/// update, so overlapping runs and two replicas ask once and end once.
/// </para>
/// </summary>
internal sealed class IdleGiveBack(
    IDbContextFactory<PortalDb> dbFactory,
    Refusals refusals,
    HoldSweep sweep,
    SlotChangeNotifier notifier,
    PortalEvents events,
    TimeProvider clock,
    IOptionsMonitor<IdleOptions> options,
    ILogger<IdleGiveBack> logger)
{
    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    /// <summary>Recurring, every minute: asks idle holders, and ends the holds whose question went unanswered. Returns how many holds ended.</summary>
    public async Task<int> RunAsync(CancellationToken ct = default)
    {
        if (options.CurrentValue.GiveBack is not { } o)
        {
            return 0;
        }

        var releaseAfter = o.ReleaseAfter;

        var now = Now;
        await using var db = dbFactory.CreateDbContext();

        // Activity since the question answered it: the question goes away (and may come again after a new idle spell).
        var answered = await db.Holds.Where(h => h.ReleasedAt == null && h.KeepAskedAt != null && h.LastActivityAt > h.KeepAskedAt)
            .Select(h => h.SlotId).ToListAsync(ct);
        if (answered.Count > 0)
        {
            await db.Holds.Where(h => h.ReleasedAt == null && h.KeepAskedAt != null && h.LastActivityAt > h.KeepAskedAt)
                .ExecuteUpdateAsync(s => s.SetProperty(h => h.KeepAskedAt, (DateTime?)null).SetProperty(h => h.KeepDeadline, (DateTime?)null)
                    .SetProperty(h => h.KeepWaiterName, (string?)null), ct);
            foreach (var slotId in answered)
            {
                notifier.Publish(new SlotChange(slotId, AuditActions.Keep));
            }
        }

        var askFrom = now - (o.AskWhenQueuedAfter < releaseAfter ? o.AskWhenQueuedAfter : releaseAfter);
        var candidates = await db.Holds.AsNoTracking().Include(h => h.Slot)
            .Where(h => h.ReleasedAt == null && h.Until > now && h.LastActivityAt <= askFrom).ToListAsync(ct);
        var waiting = candidates.Count == 0
            ? []
            : await db.Waitlist.AsNoTracking().Where(e => e.State == WaitlistState.Waiting)
                .OrderBy(e => e.JoinedAt).ThenBy(e => e.Id).Select(e => new { e.SlotId, e.UserId, e.UserName }).ToListAsync(ct);
        foreach (var hold in candidates.Where(h => h.KeepDeadline is null || h.KeepDeadline > now))
        {
            var waiter = waiting.FirstOrDefault(e => (e.SlotId == null || e.SlotId == hold.SlotId) && e.UserId != hold.HolderId)?.UserName;
            var idleFor = now - hold.LastActivityAt;
            var (askAfter, answerWithin) = waiter is null ? (releaseAfter, o.AnswerWithin) : (o.AskWhenQueuedAfter, o.AnswerWithinWhenQueued);
            var deadline = now + answerWithin;
            if (idleFor < askAfter || hold.KeepDeadline is { } asked && asked <= deadline)
            {
                continue; // not idle long enough yet, or already asked with a deadline at least as near
            }

            var lastActivity = hold.LastActivityAt;
            var askedAt = hold.KeepAskedAt ?? now;
            var updated = await db.Holds
                .Where(h => h.Id == hold.Id && h.ReleasedAt == null && h.LastActivityAt == lastActivity && h.KeepDeadline == hold.KeepDeadline)
                .ExecuteUpdateAsync(s => s.SetProperty(h => h.KeepAskedAt, askedAt).SetProperty(h => h.KeepDeadline, deadline)
                    .SetProperty(h => h.KeepWaiterName, waiter), ct);
            if (updated == 0)
            {
                continue; // used, released or asked meanwhile (another replica)
            }

            var question = (waiter is null ? "" : $"{waiter} is waiting; ")
                + $"your hold on {hold.Slot!.Name} ({hold.Purpose}) has been idle {TimeText.Duration(idleFor)}. Keep it or release it: "
                + $"without an answer it is given back at {deadline:HH:mm} UTC.";
            AuditWriter.Write(db, Actor.System, AuditActions.IdleAsk, hold.Slot,
                $"Asked {hold.HolderName} whether the idle hold is still needed (idle {TimeText.Duration(idleFor)}" + (waiter is null ? ")" : $", {waiter} waiting)"), now);
            await db.SaveChangesAsync(ct);
            events.Raise(new PortalEvent(PortalEventKind.HoldExpiring, hold.Slot.Name, hold.HolderId, hold.HolderName, question, "/"));
            notifier.Publish(new SlotChange(hold.SlotId, AuditActions.IdleAsk));
        }

        return await EndUnansweredAsync(db, now, ct);
    }

    /// <summary>"Keep it": the holder still needs the slot. Counts as activity and withdraws the question. The holder or an admin may answer.</summary>
    public async Task<Result<HoldView>> KeepAsync(ClaimsPrincipal user, int slotId, long holdId, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.HoldSlots))
        {
            return await refusals.RefuseAsync(user, "Your role cannot hold slots.", ct);
        }

        var actor = Actor.From(user);
        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var hold = await db.Holds.AsNoTracking().Include(h => h.Slot).FirstOrDefaultAsync(h => h.Id == holdId && h.SlotId == slotId, ct);
        if (hold is null)
        {
            return Fail.NotFound("That hold does not exist.");
        }

        if (hold.HolderId != actor.Id && !user.Can(Policies.Administer))
        {
            return await refusals.RefuseAsync(user, $"Only {hold.HolderName} or an admin can keep {hold.Slot!.Name}.", ct);
        }

        var kept = await db.Holds.Where(h => h.Id == holdId && h.ReleasedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(h => h.LastActivityAt, now).SetProperty(h => h.LastActivityKind, ActivityKind.Keep).SetProperty(h => h.KeepAskedAt, (DateTime?)null)
                .SetProperty(h => h.KeepDeadline, (DateTime?)null).SetProperty(h => h.KeepWaiterName, (string?)null), ct);
        if (kept == 0)
        {
            return Fail.Conflict($"Too late: the hold on {hold.Slot!.Name} has ended. Claim a slot again or join the queue.");
        }

        if (hold.KeepAskedAt is not null)
        {
            AuditWriter.Write(db, actor, AuditActions.Keep, hold.Slot!, $"{hold.HolderName}'s hold is still needed", now);
            await db.SaveChangesAsync(ct);
        }

        notifier.Publish(new SlotChange(slotId, AuditActions.Keep));
        return Result<HoldView>.Ok(HoldView.Of(await db.Holds.AsNoTracking().FirstAsync(h => h.Id == holdId, ct)));
    }

    /// <summary>Holds whose question reached its deadline unanswered end now, as an expiry (their end moves to now, never later).</summary>
    private async Task<int> EndUnansweredAsync(PortalDb db, DateTime now, CancellationToken ct)
    {
        var due = await db.Holds.AsNoTracking().Include(h => h.Slot)
            .Where(h => h.ReleasedAt == null && h.KeepDeadline <= now && h.LastActivityAt <= h.KeepAskedAt && h.Until > now).ToListAsync(ct);
        var ended = 0;
        foreach (var hold in due)
        {
            var updated = await db.Holds.Where(h => h.Id == hold.Id && h.ReleasedAt == null && h.KeepDeadline <= now && h.LastActivityAt <= h.KeepAskedAt && h.Until > now)
                .ExecuteUpdateAsync(s => s.SetProperty(h => h.GivenBackUntil, h => h.Until).SetProperty(h => h.Until, now), ct);
            if (updated == 1)
            {
                ended++;
                AuditWriter.Write(db, Actor.System, AuditActions.IdleEnd, hold.Slot!,
                    $"Hold by {hold.HolderName} ({hold.Purpose}) unused for {TimeText.Duration(now - hold.LastActivityAt)} and not kept when asked; given back"
                    + (hold.KeepWaiterName is null ? "" : $" ({hold.KeepWaiterName} was waiting)"), now);
            }
        }

        if (ended > 0)
        {
            await db.SaveChangesAsync(ct);
            logger.LogInformation("Gave back {Count} idle holds", ended);
            await sweep.ExpireDueHoldsAsync(ct);
        }

        return ended;
    }
}
