using DeployPortal.Web.Data;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

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
internal sealed class DeploymentReconciler(IDbContextFactory<PortalDb> dbFactory, IBackgroundJobClient jobs, JobStorage storage, TimeProvider clock, ILogger<DeploymentReconciler> logger)
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

/// <summary>
/// Resumes deployments whose worker died (kill -9, a lost node) soon after its lease lapses, on every replica:
/// the minutely reconciler alone left them up to a minute longer, and durable job storage keeps the dead
/// worker's job invisible for longer still. Enqueueing one twice is harmless: the lease decides who runs it.
/// </summary>
internal sealed class LeaseWatch(
    IDbContextFactory<PortalDb> dbFactory,
    IBackgroundJobClient jobs,
    IOptions<DeploymentOptions> options,
    TimeProvider clock,
    ILogger<LeaseWatch> logger) : BackgroundService
{
    // The lapsed lease each deployment was last enqueued for, so a job waiting for a free worker is not enqueued again.
    private readonly Dictionary<long, DateTime?> _enqueued = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.LeaseCheckInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await CheckAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task CheckAsync(CancellationToken ct)
    {
        try
        {
            var now = clock.GetUtcNow().UtcDateTime;
            await using var db = dbFactory.CreateDbContext();
            var lapsed = await db.Deployments.AsNoTracking().Where(d => d.State == DeploymentState.Running && d.LeaseUntil < now)
                .Select(d => new { d.Id, d.LeaseUntil }).ToListAsync(ct);
            foreach (var id in _enqueued.Keys.Where(id => lapsed.All(d => d.Id != id)).ToList())
            {
                _enqueued.Remove(id);
            }

            foreach (var d in lapsed.Where(d => !_enqueued.TryGetValue(d.Id, out var lease) || lease != d.LeaseUntil))
            {
                logger.LogInformation("The worker of deployment {Id} stopped (its lease lapsed at {Lease:u}); resuming it", d.Id, d.LeaseUntil);
                DeploymentService.Enqueue(jobs, d.Id);
                _enqueued[d.Id] = d.LeaseUntil;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The database is unreachable: the next tick looks again.
            logger.LogWarning("Looking for deployments whose worker stopped failed: {Reason}", ex.Message);
        }
    }
}
