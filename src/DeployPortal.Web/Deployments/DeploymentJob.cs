using DeployPortal.Web.Apps;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Git;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Slots;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Deployments;

/// <summary>
/// Executes one deployment: resolve → apply → roll out → verify. Safe to run twice or on two replicas at
/// once: it first takes the deployment's lease with a conditional update, which fails for a deployment
/// that is finished, being run by a live worker, or waiting behind an earlier one of the same app and
/// slot (request order). A lapsed lease means its worker died; the next run takes over and repeats the
/// steps, which is harmless because apply is idempotent.
/// </summary>
public sealed class DeploymentJob(
    IDbContextFactory<PortalDb> dbFactory,
    IOptions<DeploymentOptions> options,
    AppCatalog apps,
    BranchCatalog branches,
    ClusterGateway cluster,
    ManifestBuilder manifests,
    RolloutWatcher rollouts,
    IBackgroundJobClient jobs,
    SlotChangeNotifier notifier,
    PortalEvents events,
    TimeProvider clock,
    ILogger<DeploymentJob> logger)
{
    private TimeSpan Lease => options.Value.Lease;
    private static readonly TimeSpan SupervisorTick = TimeSpan.FromMilliseconds(500);

    private int _slotId; // Hangfire makes a new instance (and DI scope) per run

    // The attempt number this run took the lease with: a fencing token, so a run whose lease lapsed (and was
    // taken over) can neither renew it nor write the outcome over the run that took over.
    private int _attempt;

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    [AutomaticRetry(Attempts = 0)] // the reconciler, not Hangfire, decides when a deployment runs again
    public async Task RunAsync(long deploymentId, CancellationToken cancellationToken)
    {
        if (!await TakeLeaseAsync(deploymentId, cancellationToken))
        {
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var supervisor = SuperviseAsync(deploymentId, stop);
        try
        {
            await ExecuteAsync(deploymentId, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var cancelled = await CancelRequestedAsync(deploymentId);
            await FinishAsync(deploymentId, cancelled ? DeploymentState.Cancelled : DeploymentState.Failed,
                cancelled ? await CancelReasonAsync(deploymentId) : "Another worker took this deployment over.", CancellationToken.None);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The process is shutting down: hand the lease back, so another replica (or this one, restarted) resumes
            // the deployment at its next lease check instead of after the lease would have lapsed.
            logger.LogInformation("Deployment {Id} interrupted by shutdown; it will be resumed", deploymentId);
            await HandBackLeaseAsync(deploymentId);
            throw;
        }
        catch (Exception ex) when (IsFailure(ex))
        {
            if (await CancelRequestedAsync(deploymentId))
            {
                // A release tears the slot down while the rollout runs: the cluster then answers 404 for the objects
                // it deleted before the supervisor saw the cancel. That is the cancel taking effect, not a failure.
                logger.LogInformation("Deployment {Id} stopped by a cancel request: {Reason}", deploymentId, ex.Message);
                await FinishAsync(deploymentId, DeploymentState.Cancelled, await CancelReasonAsync(deploymentId), CancellationToken.None);
            }
            else
            {
                await FinishAsync(deploymentId, DeploymentState.Failed, ex is ClusterRejectedException or GitException or DeploymentFailedException
                    ? ex.Message
                    : $"The cluster did not answer after several tries: {ex.Message}", CancellationToken.None);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await supervisor;
        }

        await StartNextAsync(deploymentId, CancellationToken.None);
    }

    private async Task ExecuteAsync(long id, CancellationToken ct)
    {
        Deployment deployment;
        await using (var db = dbFactory.CreateDbContext())
        {
            deployment = await db.Deployments.AsNoTracking().Include(d => d.Slot).SingleAsync(d => d.Id == id, ct);
        }

        var slot = deployment.Slot!;
        var app = apps.Find(deployment.App) ?? throw new DeploymentFailedException($"The app {deployment.App} is no longer configured.");

        // 1. Resolve: the branch must still exist; its commit decides the image.
        var (commit, image) = await StepAsync(id, StepName.Resolve, async () =>
        {
            if (deployment.PinnedCommit && deployment.Commit is { } pinnedCommit && deployment.Image is { } pinnedImage)
            {
                return ((pinnedCommit, pinnedImage), $"Deploying commit {pinnedCommit[..Math.Min(7, pinnedCommit.Length)]} again ({pinnedImage})");
            }

            var branch = await branches.ResolveAsync(app, deployment.Branch, ct)
                ?? throw new DeploymentFailedException($"The branch \"{deployment.Branch}\" no longer exists in {app.Name}'s repository.");
            var resolved = KubeNames.ImageReference(app.ImageRepository, app.TagTemplate, branch.Name, branch.Commit);
            await using var db = dbFactory.CreateDbContext();
            await db.Deployments.Where(d => d.Id == id).ExecuteUpdateAsync(s => s.SetProperty(d => d.Commit, branch.Commit).SetProperty(d => d.Image, resolved), ct);
            return ((branch.Commit, resolved), $"{deployment.Branch} is at {branch.Commit[..Math.Min(7, branch.Commit.Length)]}: image {resolved}");
        }, ct);

        // 2. Apply: server-side apply is idempotent, so repeating it after a crash changes nothing.
        await StepAsync(id, StepName.Apply, async () =>
        {
            await cluster.EnsureNamespaceAsync(slot.Namespace, ct);
            await cluster.ApplyAsync(manifests.Build(new AppManifest(
                slot.Namespace, slot.Name, app.Name, image, app.ContainerPort, app.Replicas, app.Env, app.CpuRequest, app.MemoryRequest,
                new ManifestOrigin(id, deployment.HoldId, deployment.Branch, commit, deployment.RequestedById, deployment.RequestedByName))), ct);
            return (true, $"Applied Deployment, Service and Ingress {app.Name} in namespace {slot.Namespace}");
        }, ct);

        // 3. Roll out: follow the pods until available, or the cluster's own reason for failing.
        var rollout = await StepAsync(id, StepName.Rollout, async () =>
        {
            var lastReady = -1;
            var status = await rollouts.WaitForRolloutAsync(slot.Namespace, app.Name, image, async s =>
            {
                if (s.Ready != lastReady)
                {
                    lastReady = s.Ready;
                    await UpdateStepMessageAsync(id, StepName.Rollout, $"{s.Ready} of {s.Desired} pods ready", ct);
                }
            }, ct);
            if (status.Failure is { } failure)
            {
                throw new DeploymentFailedException(failure);
            }

            return (status, $"{status.Ready} of {status.Desired} pods ready");
        }, ct);

        // 4. Verify: every pod of this image ready, none restarting.
        await StepAsync(id, StepName.Verify, () =>
        {
            var restarting = rollout.Pods.Where(p => p.Restarts > 0).Select(p => p.Name).ToList();
            return Task.FromResult((true, restarting.Count == 0
                ? $"{rollout.Ready}/{rollout.Desired} pods ready at {manifests.HostFor(app.Name, slot.Name)}"
                : $"{rollout.Ready}/{rollout.Desired} pods ready; restarted before becoming ready: {string.Join(", ", restarting)}"));
        }, ct);

        await FinishAsync(id, DeploymentState.Succeeded, null, ct);
    }

    private async Task<T> StepAsync<T>(long id, StepName name, Func<Task<(T Result, string Message)>> body, CancellationToken ct)
    {
        await using (var db = dbFactory.CreateDbContext())
        {
            var step = await db.DeploymentSteps.FirstOrDefaultAsync(s => s.DeploymentId == id && s.Name == name, ct);
            if (step is null)
            {
                db.DeploymentSteps.Add(step = new DeploymentStep { DeploymentId = id, Name = name });
            }

            (step.State, step.StartedAt, step.FinishedAt, step.Message) = (StepState.Running, Now, null, "");
            await db.SaveChangesAsync(ct);
        }

        Publish(id);
        try
        {
            // A cluster that answers 500 or hangs is retried with back-off; the step says so while it waits.
            (T Result, string Message) outcome;
            using (ClusterRetries.Observe(retry => UpdateStepMessageAsync(id, name, retry.ToString(), ct)))
            {
                outcome = await body();
            }

            var (result, message) = outcome;
            await EndStepAsync(id, name, StepState.Succeeded, message, ct);
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // After a cancel (a release deletes the objects under the rollout) the error is the cancel's doing.
            await EndStepAsync(id, name, StepState.Failed,
                await CancelRequestedAsync(id) ? "Stopped: the deployment was cancelled." : ex.Message, CancellationToken.None);
            throw;
        }
    }

    private async Task EndStepAsync(long id, StepName name, StepState state, string message, CancellationToken ct)
    {
        var now = Now;
        var text = message.Length > 4000 ? message[..4000] : message;
        await using var db = dbFactory.CreateDbContext();
        await db.DeploymentSteps.Where(s => s.DeploymentId == id && s.Name == name)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.State, state).SetProperty(x => x.FinishedAt, now).SetProperty(x => x.Message, text), ct);
        Publish(id);
    }

    private async Task UpdateStepMessageAsync(long id, StepName name, string message, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        await db.DeploymentSteps.Where(s => s.DeploymentId == id && s.Name == name).ExecuteUpdateAsync(s => s.SetProperty(x => x.Message, message), ct);
        Publish(id);
    }

    private async Task<bool> TakeLeaseAsync(long id, CancellationToken ct)
    {
        var now = Now;
        var until = now + Lease;
        await using var db = dbFactory.CreateDbContext();
        _slotId = await db.Deployments.Where(d => d.Id == id).Select(d => d.SlotId).FirstOrDefaultAsync(ct);
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
            _attempt = await db.Deployments.Where(d => d.Id == id).Select(d => d.Attempts).SingleAsync(ct);
            // Stamped after the update: it may have waited for the previous deployment's finish to commit.
            var started = Now;
            await db.Deployments.Where(d => d.Id == id && d.StartedAt == null).ExecuteUpdateAsync(s => s.SetProperty(d => d.StartedAt, started), ct);
            Publish(id);
            return true;
        }

        // Running under someone else's lease: that worker may have died. Look again just after the lease ends.
        var leaseUntil = await db.Deployments.Where(d => d.Id == id && d.State == DeploymentState.Running).Select(d => d.LeaseUntil).FirstOrDefaultAsync(ct);
        if (leaseUntil is { } lease)
        {
            jobs.Schedule<DeploymentJob>(job => job.RunAsync(id, CancellationToken.None), lease - now + TimeSpan.FromSeconds(1));
        }

        return false;
    }

    private async Task HandBackLeaseAsync(long id)
    {
        try
        {
            var now = Now;
            await using var db = dbFactory.CreateDbContext();
            await db.Deployments.Where(d => d.Id == id && d.State == DeploymentState.Running && d.Attempts == _attempt)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeaseUntil, now));
        }
        catch (Exception ex)
        {
            logger.LogWarning("Could not hand back the lease of deployment {Id}; it lapses on its own: {Reason}", id, ex.Message);
        }
    }

    /// <summary>Renews the lease while the steps run and turns a cancel request (from any replica) into cancellation.</summary>
    private async Task SuperviseAsync(long id, CancellationTokenSource stop)
    {
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
                    var renewed = await db.Deployments.Where(d => d.Id == id && d.State == DeploymentState.Running && d.Attempts == _attempt)
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

    private static bool IsFailure(Exception ex) => ex is ClusterRejectedException or GitException or DeploymentFailedException
        or HttpRequestException or IOException or Polly.Timeout.TimeoutRejectedException or k8s.Autorest.HttpOperationException;

    /// <summary>A release's teardown sets the reason with the cancel request, so the row says the slot was released.</summary>
    private async Task<string> CancelReasonAsync(long id)
    {
        await using var db = dbFactory.CreateDbContext();
        return await db.Deployments.Where(d => d.Id == id).Select(d => d.FailureReason).SingleAsync() ?? "Cancelled while running.";
    }

    private async Task<bool> CancelRequestedAsync(long id)
    {
        await using var db = dbFactory.CreateDbContext();
        return await db.Deployments.AnyAsync(d => d.Id == id && d.CancelRequested);
    }

    private async Task FinishAsync(long id, DeploymentState state, string? reason, CancellationToken ct)
    {
        var now = Now;
        var text = reason is { Length: > 4000 } ? reason[..4000] : reason;
        await using var db = dbFactory.CreateDbContext();
        var finished = await db.Deployments.Where(d => d.Id == id && d.State == DeploymentState.Running && d.Attempts == _attempt).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.State, state)
            .SetProperty(d => d.FinishedAt, now)
            .SetProperty(d => d.FailureReason, text)
            .SetProperty(d => d.LeaseUntil, (DateTime?)null), ct);
        logger.LogInformation("Deployment {Id} {State}{Reason}", id, state, text is null ? "" : ": " + text);
        Publish(id);
        // Only the run whose write landed tells anyone: a run that lost its lease, or a repeat, stays quiet.
        if (finished == 1 && state is DeploymentState.Succeeded or DeploymentState.Failed)
        {
            await RaiseFinishedAsync(db, id, state, text);
        }
    }

    private async Task RaiseFinishedAsync(PortalDb db, long id, DeploymentState state, string? reason)
    {
        try
        {
            var d = await db.Deployments.AsNoTracking().Where(x => x.Id == id)
                .Select(x => new { x.App, x.Branch, x.Commit, x.RequestedById, x.RequestedByName, Slot = x.Slot!.Name }).SingleAsync(CancellationToken.None);
            var commit = d.Commit is { Length: > 0 } c ? $" ({c[..Math.Min(7, c.Length)]})" : "";
            var why = reason is { Length: > 300 } ? reason[..300] + "…" : reason;
            events.Raise(state == DeploymentState.Succeeded
                ? new PortalEvent(PortalEventKind.DeploySucceeded, d.Slot, d.RequestedById, d.RequestedByName,
                    $"{d.App} {d.Branch}{commit} is running in {d.Slot}, deployed by {d.RequestedByName}.", $"/deployments/{id}")
                : new PortalEvent(PortalEventKind.DeployFailed, d.Slot, d.RequestedById, d.RequestedByName,
                    $"{d.App} {d.Branch}{commit} failed to deploy to {d.Slot} for {d.RequestedByName}: {why}", $"/deployments/{id}"));
        }
        catch (Exception ex)
        {
            // The outcome is recorded; a lost notification must not stop the next deployment from starting.
            logger.LogWarning(ex, "Could not raise the notification for deployment {Id}", id);
        }
    }

    /// <summary>Deployments of one app into one slot run in request order: start the next one waiting.</summary>
    private async Task StartNextAsync(long finishedId, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        var finished = await db.Deployments.AsNoTracking().Where(d => d.Id == finishedId).Select(d => new { d.SlotId, d.App }).SingleAsync(ct);
        var next = await db.Deployments.Where(d => d.SlotId == finished.SlotId && d.App == finished.App && d.State == DeploymentState.Queued)
            .OrderBy(d => d.Id).Select(d => (long?)d.Id).FirstOrDefaultAsync(ct);
        if (next is { } nextId)
        {
            DeploymentService.Enqueue(jobs, nextId);
        }
    }

    private void Publish(long id) => notifier.Publish(new SlotChange(_slotId, "deployment", id));
}

/// <summary>A deployment failed for a reason a person must act on; the message says what.</summary>
public sealed class DeploymentFailedException(string message) : Exception(message);
