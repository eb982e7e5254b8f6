using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Waitlist;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Slots;

/// <summary>
/// What follows the end of a hold, however it ended (release, expiry, a claim or deploy finding it past its end):
/// what the portal deployed for it is torn down, its holder is told, and the freed slot is offered to the queue.
/// Called after the end has committed.
/// </summary>
internal sealed class HoldEndings(
    IDbContextFactory<PortalDb> dbFactory,
    TimeProvider clock,
    IBackgroundJobClient jobs,
    WaitlistHandover handover,
    PortalEvents events,
    ILogger<HoldEndings> logger)
{
    /// <summary>
    /// After holds end, what the portal deployed for them is removed by a background job; the slot shows
    /// "cleaning" meanwhile. The reconciler restarts a teardown that a crash interrupted. A hold that never
    /// deployed anything has nothing to remove and gets no job (most CI holds, and every release in the API benchmark).
    /// </summary>
    public async Task StartTeardownAsync(IReadOnlyCollection<Hold> ended, CancellationToken ct)
    {
        foreach (var hold in ended)
        {
            await using var db = dbFactory.CreateDbContext();
            var holdId = hold.Id;
            // What never started is over now, not when the teardown job gets to it: the queue may hand the slot to the
            // same person for the same app and branch in a moment, and a queued twin would block that hand-over.
            var now = DbTime.UtcNow(clock);
            await db.Deployments.Where(d => d.HoldId == holdId && (d.State == DeploymentState.Queued || d.State == DeploymentState.WaitingForImage)).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, DeploymentState.Cancelled)
                .SetProperty(d => d.FinishedAt, now)
                .SetProperty(d => d.FailureReason, "Cancelled: the slot was released."), ct);
            var cleaningSince = DbTime.UtcNow(clock);
            // The check and the mark are one statement. A deploy that commits under this hold after it is
            // released (it read the hold as active before) sees the release afterwards and calls TearDownIfReleasedAsync.
            var marked = await db.Slots.Where(s => s.Id == hold.SlotId && db.Deployments.Any(d => d.HoldId == holdId)).ExecuteUpdateAsync(s => s
                .SetProperty(x => x.CleaningSince, cleaningSince)
                .SetProperty(x => x.CleaningHoldId, holdId), ct);
            if (marked == 0)
            {
                continue;
            }

            var slotId = hold.SlotId;
            jobs.Enqueue<Deployments.SlotTeardownJob>(job => job.RunAsync(slotId, holdId, CancellationToken.None));
        }
    }

    /// <summary>
    /// For a deploy that just committed under an existing hold: when the hold was released meanwhile, its release
    /// may have found nothing to tear down, so this deploy starts the teardown. Both sides check after their own
    /// commit, so at least one of them sees the other.
    /// </summary>
    public async Task TearDownIfReleasedAsync(long holdId, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        if (await db.Holds.AsNoTracking().FirstOrDefaultAsync(h => h.Id == holdId && h.ReleasedAt != null, ct) is { } released)
        {
            await StartTeardownAsync([released], ct);
        }
    }

    /// <summary>Holds a claim or deploy found past their end and released on the way: clean up and tell their holders.</summary>
    public async Task ExpiredInPassingAsync(Slot slot, IReadOnlyCollection<Hold> expired, CancellationToken ct)
    {
        await StartTeardownAsync(expired, ct);
        RaiseExpired(slot, expired);
    }

    /// <summary>Tells the holders of holds that ran out (by the expiry job, or found expired by a claim). Call after commit.</summary>
    public void RaiseExpired(Slot slot, IEnumerable<Hold> expired)
    {
        foreach (var hold in expired)
        {
            events.Raise(new PortalEvent(PortalEventKind.HoldExpired, slot.Name, hold.HolderId, hold.HolderName,
                $"{hold.HolderName}'s hold on {slot.Name} ({hold.Purpose}) ran out at {hold.Until:yyyy-MM-dd HH:mm} UTC; the slot is free again.", HistoryLink(slot)));
        }
    }

    /// <summary>Tells the holder (and whoever subscribed) that their hold was released, by whom and why. Call after commit.</summary>
    public void RaiseReleased(Hold hold, Actor by, ReleaseReason reason, QaOutcome? outcome, string? note) =>
        events.Raise(new PortalEvent(PortalEventKind.SlotReleased, hold.Slot!.Name, hold.HolderId, hold.HolderName, reason switch
        {
            ReleaseReason.QaDone => $"{by.Name} released {hold.Slot.Name}: QA {outcome?.ToString().ToLowerInvariant()} for {hold.HolderName} ({hold.Purpose})" + (note is null ? "." : $": {note}"),
            ReleaseReason.Forced => $"{by.Name} took {hold.Slot.Name} back from {hold.HolderName} ({hold.Purpose}).",
            _ => $"{hold.HolderName} released {hold.Slot.Name} ({hold.Purpose}).",
        }, HistoryLink(hold.Slot)));

    /// <summary>Hands a freed slot to the queue. Never fails the action that freed it: the expiry job's sweep retries.</summary>
    public async Task OfferToQueueAsync(int slotId)
    {
        try
        {
            await handover.OfferAsync(slotId, CancellationToken.None);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Handing slot {Slot} to the queue failed; the next expiry job run tries again", slotId);
        }
    }

    /// <summary>The slot's history page: it shows the hold that just ended and who has the slot now.</summary>
    public static string HistoryLink(Slot slot) => "/slots/" + Uri.EscapeDataString(slot.Name);
}
