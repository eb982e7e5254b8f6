using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Registry;
using DeployPortal.Web.Slots;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Waitlist;

/// <summary>
/// Gives a freed slot to the first person in line whose request fits it (waiting for that slot, or for any),
/// by join order. Called after every path that ends a hold, after a person joins, and by the minutely expiry
/// job as a sweep (which covers a crash between a release and its hand-over).
/// <para>
/// Exactly once, decided by the database: in one transaction the entry is marked served by a conditional
/// update (only a still-waiting entry changes; a concurrent hand-over of another slot or a "leave" makes it
/// match nothing) and the hold is inserted (the one-active-hold-per-slot index refuses a second holder), and
/// the deployment row is added. Either all of it commits or none of it does.
/// </para>
/// </summary>
internal sealed class WaitlistHandover(
    IDbContextFactory<PortalDb> dbFactory,
    SlotChangeNotifier notifier,
    PortalEvents events,
    ImageWait imageWait,
    TimeProvider clock,
    IOptionsMonitor<HoldOptions> holdOptions,
    ILogger<WaitlistHandover> logger)
{
    /// <summary>Bounds the retries when entries are served or withdrawn under our feet; each retry means someone else made progress.</summary>
    private const int MaxAttempts = 50;

    /// <summary>Hands <paramref name="slotId"/> to the first fitting waiter, if it is free. Returns the served entry's id, or null.</summary>
    public async Task<long?> OfferAsync(int slotId, CancellationToken ct = default)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var outcome = await TryHandOverAsync(slotId, ct);
            switch (outcome)
            {
                case Outcome.Served served:
                    return served.EntryId;
                case Outcome.NothingToDo:
                    return null;
                case Outcome.EntryGone:
                    continue; // that entry was served elsewhere or left meanwhile: the next in line
            }
        }

        logger.LogWarning("Gave up handing {Slot} over after {Attempts} attempts; the expiry job's sweep will try again", slotId, MaxAttempts);
        return null;
    }

    /// <summary>
    /// Offers every enabled slot without an active hold to the queue. The sweep the expiry job runs: it catches
    /// slots freed while the process was down, re-enabled slots, and people who joined while a slot was free.
    /// </summary>
    public async Task<int> OfferFreeSlotsAsync(CancellationToken ct = default)
    {
        List<int> free;
        await using (var db = dbFactory.CreateDbContext())
        {
            if (!await db.Waitlist.AnyAsync(e => e.State == WaitlistState.Waiting, ct))
            {
                return 0;
            }

            free = await db.Slots.AsNoTracking()
                .Where(s => s.Enabled && !db.Holds.Any(h => h.SlotId == s.Id && h.ReleasedAt == null))
                .OrderBy(s => s.Name).Select(s => s.Id).ToListAsync(ct);
        }

        var served = 0;
        foreach (var slotId in free)
        {
            if (await OfferAsync(slotId, ct) is not null)
            {
                served++;
            }
        }

        return served;
    }

    private abstract record Outcome
    {
        public sealed record Served(long EntryId) : Outcome;
        public sealed record NothingToDo : Outcome;
        public sealed record EntryGone : Outcome;
    }

    /// <summary>The length the person chose when joining (bounded by today's maximum, which may have shrunk since), else the default.</summary>
    private TimeSpan HoldLength(WaitlistEntry entry)
    {
        var options = holdOptions.CurrentValue;
        return entry.HoldFor is { } chosen ? (chosen < options.MaxDuration ? chosen : options.MaxDuration) : options.DefaultDuration;
    }

    private async Task<Outcome> TryHandOverAsync(int slotId, CancellationToken ct)
    {
        var now = DbTime.UtcNow(clock);
        await using var db = dbFactory.CreateDbContext();
        // First come, first served: join time, then the id the database gave (two joins in the same tick). Asked first:
        // mostly nobody waits, and then one read answers (this runs after every release).
        var entry = await db.Waitlist.AsNoTracking()
            .Where(e => e.State == WaitlistState.Waiting && (e.SlotId == slotId || e.SlotId == null))
            .OrderBy(e => e.JoinedAt).ThenBy(e => e.Id)
            .FirstOrDefaultAsync(ct);
        if (entry is null)
        {
            return new Outcome.NothingToDo();
        }

        var slot = await db.Slots.AsNoTracking().FirstOrDefaultAsync(s => s.Id == slotId, ct);
        // A hold past its end that the expiry job has not released yet still blocks: the job releases it and offers the slot then.
        if (slot is not { Enabled: true } || await db.Holds.AnyAsync(h => h.SlotId == slotId && h.ReleasedAt == null, ct))
        {
            return new Outcome.NothingToDo();
        }

        var actor = new Actor(entry.UserId, entry.UserName);
        Deployment deployment;
        Hold hold;
        try
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var marked = await db.Waitlist.Where(e => e.Id == entry.Id && e.State == WaitlistState.Waiting)
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.State, WaitlistState.Served).SetProperty(e => e.EndedAt, now), ct);
            if (marked == 0)
            {
                return new Outcome.EntryGone();
            }

            var claim = await HoldLedger.AddClaimAsync(db, slot, actor, entry.Purpose, HoldLength(entry), now, ct);
            if (claim.HeldBy is not null)
            {
                // Someone claimed the slot since the read above. The entry stays waiting (the rollback undoes the mark).
                return new Outcome.NothingToDo();
            }

            hold = claim.Hold!;
            deployment = await DeploymentService.AddDeploymentAsync(db, slot, hold, actor, entry.App, entry.Branch, pinned: null, now, ct, via: "from the queue");
            await db.Waitlist.Where(e => e.Id == entry.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.HoldId, hold.Id).SetProperty(e => e.DeploymentId, deployment.Id), ct);
            AuditWriter.Write(db, actor, AuditActions.QueueServed, slot,
                $"{entry.App}@{entry.Branch} ({entry.Purpose}), waited {Common.TimeText.Duration(now - entry.JoinedAt)}", now);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Someone claimed the slot (or another hand-over gave it away) first. The entry stays waiting.
            return new Outcome.NothingToDo();
        }

        logger.LogInformation("Handed {Slot} to {User} from the queue (entry {Entry}, deployment {Deployment})", slot.Name, actor.Name, entry.Id, deployment.Id);
        // Through the same image check as a deploy from the form: a missing image waits instead of failing to pull.
        await imageWait.StartOrWaitAsync(deployment.Id, ct);
        notifier.Publish(new SlotChange(slot.Id, AuditActions.QueueServed, deployment.Id));
        events.Raise(new PortalEvent(PortalEventKind.WaitlistTurn, slot.Name, actor.Id, actor.Name,
            $"Your turn: {slot.Name} is yours until {hold.Until:u} and {entry.App}@{entry.Branch} is deploying.", $"/deployments/{deployment.Id}"));
        return new Outcome.Served(entry.Id);
    }
}
