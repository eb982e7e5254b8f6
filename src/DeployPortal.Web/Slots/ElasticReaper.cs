using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Removes surplus elastic slots (a recurring job, every minute): an elastic slot nobody has held for
/// <c>Slots:Elastic:RemoveAfter</c> is closed for claims, its namespace deleted, and its row marked removed (kept for the
/// history, audited). A slot claimed again before then is kept. The slot is closed first and checked again, so a claim
/// that got in meanwhile keeps it; if the cluster refuses the deletion the slot stays closed and the next run tries again.
/// Runs whether or not the pool is enabled, so slots made before it was turned off still go. While it is enabled, the
/// same run then makes slots for people waiting for any slot (<see cref="ElasticPool.ServeWaitingAsync"/>).
/// </summary>
internal sealed class ElasticReaper(
    IDbContextFactory<PortalDb> dbFactory,
    IOptionsMonitor<ElasticOptions> options,
    ClusterGateway cluster,
    ElasticPool pool,
    SlotChangeNotifier notifier,
    TimeProvider clock,
    ILogger<ElasticReaper> logger)
{
    public const string JobId = "remove-surplus-elastic-slots";

    /// <summary>Removes every surplus elastic slot that has stood free long enough; returns how many went.</summary>
    public async Task<int> RunAsync(CancellationToken ct = default)
    {
        var now = DbTime.UtcNow(clock);
        var removeAfter = options.CurrentValue.RemoveAfter;
        var cutoff = now - removeAfter;
        List<Slot> surplus;
        await using (var db = dbFactory.CreateDbContext())
        {
            surplus = await db.Slots.AsNoTracking()
                .Where(s => s.Elastic && s.RemovedAt == null && s.CleaningSince == null && s.CreatedAt <= cutoff
                    && !db.Holds.Any(h => h.SlotId == s.Id && (h.ReleasedAt == null || h.ReleasedAt > cutoff)))
                .ToListAsync(ct);
        }

        var removed = 0;
        foreach (var slot in surplus)
        {
            if (await RemoveAsync(slot, removeAfter, ct))
            {
                removed++;
            }
        }

        // The same minute serves whoever waits for any slot while the budget has room (a join that met a cluster failure, a raised budget).
        await pool.ServeWaitingAsync(Actor.System, ct);
        return removed;
    }

    private async Task<bool> RemoveAsync(Slot slot, TimeSpan removeAfter, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        // Marking the slot as being cleaned is the claim on removing it: one conditional update, so of two runs at once
        // (two replicas, or a run that overlaps the last) exactly one goes on; the other finds it taken. A slot left
        // closed by a creation whose clean-up failed is taken the same way.
        var now = DbTime.UtcNow(clock);
        var taken = await db.Slots.Where(s => s.Id == slot.Id && s.RemovedAt == null && s.CleaningSince == null && !db.Holds.Any(h => h.SlotId == s.Id && h.ReleasedAt == null))
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Enabled, false).SetProperty(x => x.CleaningSince, now), ct);
        if (taken == 0)
        {
            return false;
        }

        if (await db.Holds.AnyAsync(h => h.SlotId == slot.Id && h.ReleasedAt == null, ct))
        {
            // Claimed between the look and the taking: it is in use again, so it stays.
            await db.Slots.Where(s => s.Id == slot.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.Enabled, true).SetProperty(x => x.CleaningSince, (DateTime?)null), ct);
            return false;
        }

        notifier.Publish(new SlotChange(slot.Id, AuditActions.SlotDisabled));
        try
        {
            await cluster.DeleteNamespaceAsync(slot.Namespace, ct);
        }
        catch (Exception ex) when (ClusterRetries.IsClusterFailure(ex))
        {
            // Closed but not removed: the next run takes it again.
            await db.Slots.Where(s => s.Id == slot.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.CleaningSince, (DateTime?)null), CancellationToken.None);
            logger.LogWarning(ex, "Deleting namespace {Namespace} of surplus elastic slot {Slot} failed; the next run tries again", slot.Namespace, slot.Name);
            return false;
        }

        await db.Slots.Where(s => s.Id == slot.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.RemovedAt, now).SetProperty(x => x.CleaningSince, (DateTime?)null), CancellationToken.None);
        // Whoever waited for this slot by name now waits for any slot, rather than for one that is gone.
        await db.Waitlist.Where(e => e.SlotId == slot.Id && e.State == WaitlistState.Waiting)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.SlotId, (int?)null), CancellationToken.None);
        AuditWriter.Write(db, Actor.System, AuditActions.ElasticRemoved, slot,
            $"namespace {slot.Namespace} deleted: free for {TimeText.Duration(removeAfter)} or more", now);
        await db.SaveChangesAsync(CancellationToken.None);
        logger.LogInformation("Removed surplus elastic slot {Slot}", slot.Name);
        notifier.Publish(new SlotChange(slot.Id, AuditActions.ElasticRemoved));
        return true;
    }
}
