using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.GitOps;
using DeployPortal.Web.Slots;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Deployments;

/// <summary>
/// After a hold ends: stops its deployments and removes what the portal applied for it (selected by the
/// hold's label, so a newer holder's apps are never touched), then marks the slot clean. Idempotent.
/// </summary>
internal sealed class SlotTeardownJob(
    IDbContextFactory<PortalDb> dbFactory,
    ClusterGateway cluster,
    SlotChangeNotifier notifier,
    TimeProvider clock,
    GitOpsDelivery gitOps,
    ILogger<SlotTeardownJob> logger)
{
    [AutomaticRetry(Attempts = 5)]
    public async Task RunAsync(int slotId, long holdId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        string ns, name;
        await using (var db = dbFactory.CreateDbContext())
        {
            // An anonymous type, not a tuple: Npgsql cannot read a row value as a ValueTuple.
            var slot = await db.Slots.Where(s => s.Id == slotId).Select(s => new { s.Namespace, s.Name }).SingleAsync(cancellationToken);
            (ns, name) = (slot.Namespace, slot.Name);
            await db.Deployments.Where(d => d.HoldId == holdId && (d.State == DeploymentState.Queued || d.State == DeploymentState.WaitingForImage)).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, DeploymentState.Cancelled)
                .SetProperty(d => d.FinishedAt, now)
                .SetProperty(d => d.FailureReason, "Cancelled: the slot was released."), cancellationToken);
            await db.Deployments.Where(d => d.HoldId == holdId && d.State == DeploymentState.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.CancelRequested, true)
                    .SetProperty(d => d.FailureReason, "Cancelled: the slot was released."), cancellationToken);
        }

        if (gitOps.Enabled)
        {
            // GitOps: the release is a commit removing what the hold deployed; Argo CD prunes it from the cluster.
            var commit = await gitOps.ReleaseAsync(name, holdId, cancellationToken);
            logger.LogInformation("Committed the release of hold {Hold} in {Slot}: {Commit}", holdId, name, commit ?? "nothing to remove");
            await gitOps.WaitPrunedAsync(ns, holdId, cancellationToken); // the slot is clean when the cluster is, not when the commit is
        }
        else
        {
            await cluster.DeleteForHoldAsync(ns, holdId, cancellationToken);
        }

        await using (var db = dbFactory.CreateDbContext())
        {
            await db.Slots.Where(s => s.Id == slotId && s.CleaningHoldId == holdId).ExecuteUpdateAsync(s => s
                .SetProperty(x => x.CleaningSince, (DateTime?)null)
                .SetProperty(x => x.CleaningHoldId, (long?)null), cancellationToken);
        }

        logger.LogInformation("Removed what hold {Hold} deployed in {Namespace}", holdId, ns);
        notifier.Publish(new SlotChange(slotId, "cleaned"));
    }
}
