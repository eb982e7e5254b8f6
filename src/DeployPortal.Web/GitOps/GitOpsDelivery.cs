using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Git;
using DeployPortal.Web.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.GitOps;

/// <summary>
/// The GitOps mode's part of a deployment: its apply step commits and pushes the app's manifests and waits for Argo CD
/// to sync that commit; its verify step waits for Argo CD to call the app Healthy at it. A release commits the removal
/// of what the hold deployed. Failures carry Argo CD's own conditions and messages.
/// </summary>
internal sealed class GitOpsDelivery(
    IOptions<DeploymentOptions> deploymentOptions,
    IOptions<GitOpsOptions> options,
    IOptions<NotificationOptions> notifications,
    ConfigRepository repository,
    ArgoApplications argo,
    IDbContextFactory<PortalDb> dbFactory,
    ClusterGateway cluster,
    DeploymentStepLog steps,
    ILogger<GitOpsDelivery> logger)
{
    /// <summary>How often a release looks whether Argo CD pruned the hold's objects.</summary>
    private static readonly TimeSpan PrunePoll = TimeSpan.FromMilliseconds(250);

    public bool Enabled => deploymentOptions.Value.Mode == DeploymentMode.GitOps;

    /// <summary>The apply step in GitOps mode: commit, push, record the commit, wait until Argo CD synced it. Answers the step's message.</summary>
    public async Task<string> CommitAndSyncAsync(DeploymentLease lease, Deployment deployment, Slot slot, AppObjects objects, CancellationToken ct)
    {
        var app = objects.Deployment.Metadata.Name;
        var path = repository.PathFor(slot.Name, app);
        var message = await MessageAsync(deployment, slot, app, objects, ct);
        var sha = await repository.CommitAsync(work => ConfigManifests.WriteAsync(Path.Combine(work, path), objects, ct), message, ct)
            ?? throw new DeploymentFailedException("The configuration repository did not take the commit.");
        await using (var db = dbFactory.CreateDbContext())
        {
            await db.Deployments.Where(d => d.Id == deployment.Id).ExecuteUpdateAsync(s => s.SetProperty(d => d.ConfigCommit, sha), ct);
        }

        var committed = $"Committed {ArgoStatus.Short(sha)} to {path}/";
        await steps.UpdateMessageAsync(lease, StepName.Apply, committed + "; waiting for Argo CD to sync it", ct);
        await argo.EnsureAsync(slot.Name, app, slot.Namespace, ct);
        await WaitAsync(lease, StepName.Apply, argo.NameFor(slot.Name, app), sha, committed, s => s.Sync == "Synced", s => s.Sync != "Synced" && s.Problems.Length > 0, ct);
        return committed + "; Argo CD synced it";
    }

    /// <summary>The verify step's extra in GitOps mode: Argo CD reports the app Healthy at the deployment's commit.</summary>
    public async Task<string> WaitHealthyAsync(DeploymentLease lease, Slot slot, string app, CancellationToken ct)
    {
        string sha;
        await using (var db = dbFactory.CreateDbContext())
        {
            sha = await db.Deployments.Where(d => d.Id == lease.DeploymentId).Select(d => d.ConfigCommit).SingleAsync(ct)
                ?? throw new DeploymentFailedException("This deployment has no configuration commit to check.");
        }

        await WaitAsync(lease, StepName.Verify, argo.NameFor(slot.Name, app), sha, "", s => s.Sync == "Synced" && s.Health == "Healthy",
            s => s.Health is "Degraded" or "Missing" || (s.Sync != "Synced" && s.Problems.Length > 0), ct);
        return $"Argo CD reports {app} Synced and Healthy at {ArgoStatus.Short(sha)}";
    }

    /// <summary>Commits the removal of what a hold deployed in a slot; Argo CD prunes it. Answers the commit, or null when there was nothing.</summary>
    public async Task<string?> ReleaseAsync(string slot, long holdId, CancellationToken ct)
    {
        IReadOnlyList<string> removed = [];
        var sha = await repository.CommitAsync(async work => removed = await ConfigManifests.RemoveHoldAsync(Path.Combine(work, repository.SlotPath(slot)), holdId, ct),
            $"Release {slot}: remove what hold #{holdId} deployed\n\nThe slot was released in DeployPortal; Argo CD prunes these apps.", ct);
        return removed.Count == 0 ? null : sha;
    }

    /// <summary>
    /// After a release commit: waits (up to <see cref="GitOpsOptions.SyncTimeout"/>) until Argo CD pruned what the hold
    /// deployed, so the board shows the slot clean only when it is. When Argo CD does not prune in time (an Application
    /// deleted without the resources finalizer, say) it logs what is left and answers false; the repository no longer has it.
    /// </summary>
    public async Task<bool> WaitPrunedAsync(string ns, long holdId, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.Value.SyncTimeout);
        try
        {
            while (await cluster.HoldHasObjectsAsync(ns, holdId, deadline.Token))
            {
                await Task.Delay(PrunePoll, deadline.Token);
            }

            return true;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning("Argo CD did not prune what hold {Hold} deployed in {Namespace} within {Timeout}; the configuration repository no longer has it",
                holdId, ns, options.Value.SyncTimeout);
            return false;
        }
    }

    /// <summary>
    /// A deployment cancelled after its commit was pushed: commits its app's folder back to what it was before, so the
    /// repository does not keep desired state nobody wants (Argo CD then syncs the slot back). Not when the hold has ended
    /// (the release commits the removal), nor when someone changed the folder since. Answers a sentence for the
    /// deployment's reason, or null when there was nothing to revert.
    /// </summary>
    public async Task<string?> RevertCancelledAsync(long deploymentId, CancellationToken ct)
    {
        if (!Enabled)
        {
            return null;
        }

        await using var db = dbFactory.CreateDbContext();
        var cancelled = await db.Deployments.Where(d => d.Id == deploymentId)
            .Select(d => new { d.App, d.ConfigCommit, Slot = d.Slot!.Name, Released = db.Holds.Any(h => h.Id == d.HoldId && h.ReleasedAt != null) })
            .SingleAsync(ct);
        if (cancelled.ConfigCommit is not { } commit || cancelled.Released)
        {
            return null;
        }

        var path = repository.PathFor(cancelled.Slot, cancelled.App);
        try
        {
            var sha = await repository.RevertPathAsync(path, commit, $"Cancel deploy of {cancelled.App} to {cancelled.Slot}: back to before {ArgoStatus.Short(commit)}\n\n"
                + $"The deployment was cancelled; {path}/ is as it was before {commit}.\nDeployment: {Link(deploymentId)}\n", ct);
            return sha is null ? null : $"Its configuration commit {ArgoStatus.Short(commit)} was reverted by {ArgoStatus.Short(sha)}.";
        }
        catch (GitException e)
        {
            return $"Its configuration commit {ArgoStatus.Short(commit)} could not be reverted: {e.Message}";
        }
    }

    private async Task WaitAsync(DeploymentLease lease, StepName step, string application, string sha, string prefix,
        Func<ArgoStatus, bool> done, Func<ArgoStatus, bool> failed, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.Value.SyncTimeout);
        var last = ArgoStatus.None;
        var includes = new Dictionary<string, bool>();
        try
        {
            await foreach (var status in argo.WatchAsync(application, deadline.Token))
            {
                var atOurs = status.Revision is { } revision && (includes.TryGetValue(revision, out var known) ? known
                    : includes[revision] = await repository.IncludesAsync(revision, sha, deadline.Token));
                if (atOurs && done(status))
                {
                    return;
                }

                if (atOurs && failed(status))
                {
                    throw new DeploymentFailedException($"Argo CD could not deploy {ArgoStatus.Short(sha)}: {(status.Problems.Length > 0 ? status.Problems : status.ToString())}");
                }

                // Compared as text: the record's conditions list compares by reference.
                if (status.ToString() != last.ToString())
                {
                    last = status;
                    await steps.UpdateMessageAsync(lease, step, (prefix.Length > 0 ? prefix + "; " : "") + $"Argo CD: {status}", ct);
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }

        ct.ThrowIfCancellationRequested();
        throw new DeploymentFailedException($"Argo CD did not report {ArgoStatus.Short(sha)} synced and healthy within {options.Value.SyncTimeout.TotalMinutes:0.#} minutes; "
            + $"the Application {options.Value.ArgoNamespace}/{application} last said: {last}.");
    }

    /// <summary>Who, what, why and the link back, as a GitOps team reads the configuration repository's log.</summary>
    private async Task<string> MessageAsync(Deployment deployment, Slot slot, string app, AppObjects objects, CancellationToken ct)
    {
        string? purpose = null;
        if (deployment.HoldId is { } holdId)
        {
            await using var db = dbFactory.CreateDbContext();
            purpose = await db.Holds.Where(h => h.Id == holdId).Select(h => h.Purpose).SingleOrDefaultAsync(ct);
        }

        var image = objects.Deployment.Spec.Template.Spec.Containers[0].Image;
        var commit = objects.Deployment.Metadata.Annotations.TryGetValue("deployportal.io/commit", out var c) && c.Length > 0 ? $" ({c[..Math.Min(7, c.Length)]})" : "";
        return $"Deploy {app} {deployment.Branch}{commit} to {slot.Name}\n\n"
            + $"Requested by: {deployment.RequestedByName} <{deployment.RequestedById}>\n"
            + (string.IsNullOrWhiteSpace(purpose) ? "" : $"Why: {purpose}\n")
            + $"Image: {image}\n"
            + (deployment.PinnedCommit ? "Rollback: the commit and image of an earlier deployment, again\n" : "")
            + $"Deployment: {Link(deployment.Id)}\n";
    }

    /// <summary>The deployment's page; absolute when <c>Notifications:PublicUrl</c> is set.</summary>
    private string Link(long id) => notifications.Value.PublicUrl is { } root ? new Uri(root, $"/deployments/{id}").ToString() : $"/deployments/{id}";
}
