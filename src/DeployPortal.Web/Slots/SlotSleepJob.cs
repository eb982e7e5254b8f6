using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Scales a hold's apps to zero or back, as the hold's row says now (not as it said when the job was queued),
/// so a sleep and a wake queued close together end in the state the person chose last. Safe to run twice.
/// </summary>
public sealed class SlotSleepJob(IDbContextFactory<PortalDb> dbFactory, ClusterGateway cluster, ILogger<SlotSleepJob> logger)
{
    [AutomaticRetry(Attempts = 5)]
    public async Task SleepAsync(long holdId, CancellationToken cancellationToken)
    {
        if (await FindAsync(holdId, cancellationToken) is { SleepingSince: not null } hold)
        {
            await cluster.SleepForHoldAsync(hold.Slot!.Namespace, holdId, cancellationToken);
            logger.LogInformation("Hold {Hold} in {Namespace} is asleep", holdId, hold.Slot.Namespace);
        }
    }

    [AutomaticRetry(Attempts = 5)]
    public async Task WakeAsync(long holdId, CancellationToken cancellationToken)
    {
        if (await FindAsync(holdId, cancellationToken) is { SleepingSince: null } hold)
        {
            await cluster.WakeForHoldAsync(hold.Slot!.Namespace, holdId, cancellationToken);
            logger.LogInformation("Hold {Hold} in {Namespace} is awake", holdId, hold.Slot.Namespace);
        }
    }

    private async Task<Hold?> FindAsync(long holdId, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        return await db.Holds.AsNoTracking().Include(h => h.Slot).FirstOrDefaultAsync(h => h.Id == holdId && h.ReleasedAt == null, ct);
    }
}
