using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Deployments;

/// <summary>
/// The right of one run to execute a deployment. <paramref name="Attempt"/> is a fencing token: a run whose lease
/// lapsed (and was taken over) can neither renew it nor write the outcome over the run that took over.
/// </summary>
internal sealed record DeploymentLease(long DeploymentId, int SlotId, int Attempt)
{
    /// <summary>What the slot's pages are told when the run writes anything about the deployment.</summary>
    public SlotChange Change => new(SlotId, "deployment", DeploymentId);
}

/// <summary>
/// The lease protocol on the deployment row, which makes a deployment safe to run twice or on two replicas at once:
/// a run first takes the lease with a conditional update, which fails for a deployment that is finished, being run
/// by a live worker, or waiting behind an earlier one of the same app and slot (request order). The run renews it
/// while it works and hands it back on shutdown; a lapsed lease means its worker died, and the next run takes over
/// (crash resume) and repeats the steps, which is harmless because apply is idempotent.
/// </summary>
internal sealed class DeploymentLeases(
    IDbContextFactory<PortalDb> dbFactory,
    IOptions<DeploymentOptions> options,
    IBackgroundJobClient jobs,
    TimeProvider clock,
    ILogger<DeploymentLeases> logger)
{
    private static readonly TimeSpan SupervisorTick = TimeSpan.FromMilliseconds(500);

    private TimeSpan Lease => options.Value.Lease;

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    /// <summary>
    /// Takes the lease, or null when this run must not execute the deployment. A deployment running under someone
    /// else's lease is looked at again just after that lease ends, in case its worker died.
    /// </summary>
    public async Task<DeploymentLease?> TakeAsync(long id, CancellationToken ct)
    {
        var now = Now;
        var until = now + Lease;
        await using var db = dbFactory.CreateDbContext();
        var slotId = await db.Deployments.Where(d => d.Id == id).Select(d => d.SlotId).FirstOrDefaultAsync(ct);
        var taken = await db.Deployments
            .Where(d => d.Id == id
                && ((d.State == DeploymentState.Queued
                        && !db.Deployments.Any(o => o.SlotId == d.SlotId && o.App == d.App && o.Id < d.Id
                            && (o.State == DeploymentState.Queued || o.State == DeploymentState.Running)))
                    || (d.State == DeploymentState.Running && d.LeaseUntil < now)))
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, DeploymentState.Running)
                .SetProperty(d => d.LeaseUntil, until)
                .SetProperty(d => d.Attempts, d => d.Attempts + 1), ct);
        if (taken == 1)
        {
            var attempt = await db.Deployments.Where(d => d.Id == id).Select(d => d.Attempts).SingleAsync(ct);
            // Stamped after the update: it may have waited for the previous deployment's finish to commit.
            var started = Now;
            await db.Deployments.Where(d => d.Id == id && d.StartedAt == null).ExecuteUpdateAsync(s => s.SetProperty(d => d.StartedAt, started), ct);
            return new DeploymentLease(id, slotId, attempt);
        }

        var leaseUntil = await db.Deployments.Where(d => d.Id == id && d.State == DeploymentState.Running).Select(d => d.LeaseUntil).FirstOrDefaultAsync(ct);
        if (leaseUntil is { } lease)
        {
            jobs.Schedule<DeploymentJob>(job => job.RunAsync(id, CancellationToken.None), lease - now + TimeSpan.FromSeconds(1));
        }

        return null;
    }

    /// <summary>
    /// Renews the lease while the steps run and turns a cancel request (from any replica) into cancellation of
    /// <paramref name="stop"/>; so does losing the lease to another run. Ends when <paramref name="stop"/> is cancelled.
    /// </summary>
    public async Task SuperviseAsync(DeploymentLease lease, CancellationTokenSource stop)
    {
        var id = lease.DeploymentId;
        var renewAt = Now + Lease / 3;
        try
        {
            using var timer = new PeriodicTimer(SupervisorTick, clock);
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                await using var db = dbFactory.CreateDbContext();
                if (await db.Deployments.AnyAsync(d => d.Id == id && d.CancelRequested, stop.Token))
                {
                    await stop.CancelAsync();
                    return;
                }

                if (Now >= renewAt)
                {
                    var until = Now + Lease;
                    var renewed = await db.Deployments.Where(d => d.Id == id && d.State == DeploymentState.Running && d.Attempts == lease.Attempt)
                        .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeaseUntil, until), stop.Token);
                    if (renewed == 0)
                    {
                        await stop.CancelAsync();
                        return;
                    }

                    renewAt = Now + Lease / 3;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            // The database is unreachable: keep deploying; if the lease lapses meanwhile, another run takes over safely.
            logger.LogWarning(ex, "Supervising deployment {Id} failed", id);
        }
    }

    /// <summary>
    /// Ends the lease early on shutdown, so another replica (or this one, restarted) resumes the deployment at its
    /// next lease check instead of after the lease would have lapsed.
    /// </summary>
    public async Task HandBackAsync(DeploymentLease lease)
    {
        try
        {
            var now = Now;
            await using var db = dbFactory.CreateDbContext();
            await db.Deployments.Where(d => d.Id == lease.DeploymentId && d.State == DeploymentState.Running && d.Attempts == lease.Attempt)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeaseUntil, now));
        }
        catch (Exception ex)
        {
            logger.LogWarning("Could not hand back the lease of deployment {Id}; it lapses on its own: {Reason}", lease.DeploymentId, ex.Message);
        }
    }

    /// <summary>
    /// Writes the outcome and gives the lease up, in one conditional update: true only when this run still held the
    /// lease (a run that lost it, or a repeat, writes nothing).
    /// </summary>
    public async Task<bool> EndAsync(PortalDb db, DeploymentLease lease, DeploymentState state, string? reason, CancellationToken ct)
    {
        var now = Now;
        return await db.Deployments.Where(d => d.Id == lease.DeploymentId && d.State == DeploymentState.Running && d.Attempts == lease.Attempt).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.State, state)
            .SetProperty(d => d.FinishedAt, now)
            .SetProperty(d => d.FailureReason, reason)
            .SetProperty(d => d.LeaseUntil, (DateTime?)null), ct) == 1;
    }

    public async Task<bool> CancelRequestedAsync(long id)
    {
        await using var db = dbFactory.CreateDbContext();
        return await db.Deployments.AnyAsync(d => d.Id == id && d.CancelRequested);
    }

    /// <summary>A release's teardown sets the reason with the cancel request, so the row says the slot was released.</summary>
    public async Task<string> CancelReasonAsync(long id)
    {
        await using var db = dbFactory.CreateDbContext();
        return await db.Deployments.Where(d => d.Id == id).Select(d => d.FailureReason).SingleAsync() ?? "Cancelled while running.";
    }
}
