using DeployPortal.Web.Data;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Deployments;

/// <summary>
/// The database is the source of truth; this makes Hangfire agree with it. At start and every minute it
/// re-enqueues deployments that wait with no job (the process died before enqueueing, or in-memory job
/// storage was lost on restart), deployments whose worker's lease lapsed (killed mid-deploy), and
/// teardowns a crash interrupted. Duplicates are harmless: a job that cannot take the lease does nothing.
/// With several replicas the recurring run happens on one of them per minute (Hangfire's recurring-job lock),
/// but every replica runs the start-up pass, and then two can enqueue the same deployment: the lease decides
/// which job works and the other returns at once, so the reconciler never has a deployment run twice.
/// </summary>
public sealed class DeploymentReconciler(IDbContextFactory<PortalDb> dbFactory, IBackgroundJobClient jobs, JobStorage storage, TimeProvider clock, ILogger<DeploymentReconciler> logger)
{
    public const string Id = "reconcile-deployments";
    private static readonly TimeSpan QueuedGrace = TimeSpan.FromSeconds(20);

    public async Task<int> RunAsync(bool atStartup, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // At start, in-memory job storage has lost every job, so nothing queued or running has a job or a live
        // worker any more. Durable storage (PostgreSQL) kept them, and a live lease may belong to another replica
        // that is deploying right now: a start then looks like any other pass.
        atStartup &= storage is Hangfire.InMemory.InMemoryStorage;
        var queuedBefore = atStartup ? now : now - QueuedGrace;
        await using var db = dbFactory.CreateDbContext();
        var stuck = await db.Deployments.AsNoTracking()
            .Where(d => (d.State == DeploymentState.Queued && d.CreatedAt <= queuedBefore
                         && !db.Deployments.Any(o => o.SlotId == d.SlotId && o.App == d.App && o.Id < d.Id
                             && (o.State == DeploymentState.Queued || o.State == DeploymentState.Running)))
                        || (d.State == DeploymentState.Running && (atStartup || d.LeaseUntil < now)))
            .Select(d => d.Id).ToListAsync(cancellationToken);
        foreach (var id in stuck)
        {
            DeploymentService.Enqueue(jobs, id);
        }

        var cleaning = await db.Slots.AsNoTracking().Where(s => s.CleaningHoldId != null && s.CleaningSince <= now - QueuedGrace)
            .Select(s => new { s.Id, HoldId = s.CleaningHoldId!.Value }).ToListAsync(cancellationToken);
        foreach (var slot in cleaning)
        {
            jobs.Enqueue<SlotTeardownJob>(job => job.RunAsync(slot.Id, slot.HoldId, CancellationToken.None));
        }

        if (stuck.Count + cleaning.Count > 0)
        {
            logger.LogInformation("Reconciler re-enqueued deployments {Deployments} and teardowns of slots {Slots}", stuck, cleaning.Select(c => c.Id));
        }

        return stuck.Count + cleaning.Count;
    }
}

/// <summary>Runs the reconciler once when the portal starts (after migrations), so nothing waits a minute after a restart.</summary>
internal sealed class ReconcileAtStartup(IServiceScopeFactory scopes) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DeploymentReconciler>().RunAsync(atStartup: true, stoppingToken);
    }
}
