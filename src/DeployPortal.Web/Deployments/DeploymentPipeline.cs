using DeployPortal.Web.Apps;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Git;
using DeployPortal.Web.GitOps;
using DeployPortal.Web.Registry;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Deployments;

/// <summary>
/// The steps of one deployment under a lease: resolve → apply → roll out → verify, then the outcome. Every step is
/// safe to repeat after a crash: the branch is resolved again, and server-side apply is idempotent.
/// </summary>
internal sealed class DeploymentPipeline(
    IDbContextFactory<PortalDb> dbFactory,
    AppCatalog apps,
    BranchCatalog branches,
    ClusterGateway cluster,
    ManifestBuilder manifests,
    RolloutWatcher rollouts,
    ImageCheck images,
    DeploymentStepLog steps,
    DeploymentOutcome outcome,
    GitOpsDelivery gitOps)
{
    public async Task RunAsync(DeploymentLease lease, CancellationToken ct)
    {
        var id = lease.DeploymentId;
        Deployment deployment;
        await using (var db = dbFactory.CreateDbContext())
        {
            deployment = await db.Deployments.AsNoTracking().Include(d => d.Slot).SingleAsync(d => d.Id == id, ct);
        }

        var slot = deployment.Slot!;
        var app = apps.Find(deployment.App) ?? throw new DeploymentFailedException($"The app {deployment.App} is no longer configured.");

        // 1. Resolve: the branch must still exist; its commit decides the image, and the registry (when configured) the
        // digest that runs, so a tag pushed again later cannot change what this slot runs.
        var (commit, image) = await steps.RunAsync(lease, StepName.Resolve, async () =>
        {
            if (deployment.PinnedCommit && deployment.Commit is { } pinnedCommit && deployment.Image is { } pinnedImage)
            {
                var again = deployment.ImageDigest is { } pinnedDigest ? ImageName.Parse(pinnedImage).WithDigest(pinnedDigest) : pinnedImage;
                return ((pinnedCommit, again), $"Deploying commit {pinnedCommit[..Math.Min(7, pinnedCommit.Length)]} again ({again})");
            }

            if (deployment is { ImageWaitUntil: not null, Commit: { } builtCommit, Image: { } builtImage, ImageDigest: { } builtDigest })
            {
                // It waited for this image: run exactly the digest found when it appeared.
                return ((builtCommit, ImageName.Parse(builtImage).WithDigest(builtDigest)),
                    $"{deployment.Branch} at {builtCommit[..Math.Min(7, builtCommit.Length)]}: image {builtImage} ({ImageLookup.Short(builtDigest)}), built while it waited");
            }

            var branch = await branches.ResolveAsync(app, deployment.Branch, ct)
                ?? throw new DeploymentFailedException($"The branch \"{deployment.Branch}\" no longer exists in {app.Name}'s repository.");
            var tagged = KubeNames.ImageReference(app.ImageRepository, app.TagTemplate, branch.Name, branch.Commit);
            var digest = await DigestAsync(tagged, ct);
            await using var db = dbFactory.CreateDbContext();
            await db.Deployments.Where(d => d.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Commit, branch.Commit).SetProperty(d => d.Image, tagged).SetProperty(d => d.ImageDigest, digest), ct);
            var runs = digest is null ? tagged : ImageName.Parse(tagged).WithDigest(digest);
            return ((branch.Commit, runs), $"{deployment.Branch} is at {branch.Commit[..Math.Min(7, branch.Commit.Length)]}: image {tagged}"
                + (digest is null ? "" : $" ({ImageLookup.Short(digest)})"));
        }, ct);

        // 2. Apply: server-side apply is idempotent, so repeating it after a crash changes nothing. In GitOps mode the
        // same objects are committed to the configuration repository instead, and Argo CD applies them.
        var objects = manifests.Build(new AppManifest(
            slot.Namespace, slot.Name, app.Name, image, app.ContainerPort, app.Replicas, app.Env, app.CpuRequest, app.MemoryRequest,
            new ManifestOrigin(id, deployment.HoldId, deployment.Branch, commit, deployment.RequestedById, deployment.RequestedByName)));
        await steps.RunAsync(lease, StepName.Apply, async () =>
        {
            if (gitOps.Enabled)
            {
                return (true, await gitOps.CommitAndSyncAsync(lease, deployment, slot, objects, ct));
            }

            await cluster.EnsureNamespaceAsync(slot.Namespace, ct);
            await cluster.ApplyAsync(objects, ct);
            return (true, $"Applied Deployment, Service and Ingress {app.Name} in namespace {slot.Namespace}");
        }, ct);

        // 3. Roll out: follow the pods until available, or the cluster's own reason for failing.
        var rollout = await steps.RunAsync(lease, StepName.Rollout, async () =>
        {
            var lastReady = -1;
            var status = await rollouts.WaitForRolloutAsync(slot.Namespace, app.Name, image, async s =>
            {
                if (s.Ready != lastReady)
                {
                    lastReady = s.Ready;
                    await steps.UpdateMessageAsync(lease, StepName.Rollout, $"{s.Ready} of {s.Desired} pods ready", ct);
                }
            }, ct);
            if (status.Failure is { } failure)
            {
                throw new DeploymentFailedException(failure);
            }

            return (status, $"{status.Ready} of {status.Desired} pods ready");
        }, ct);

        // 4. Verify: every pod of this image ready, none restarting (and, in GitOps mode, Argo CD calls the app Healthy).
        await steps.RunAsync(lease, StepName.Verify, async () =>
        {
            var restarting = rollout.Pods.Where(p => p.Restarts > 0).Select(p => p.Name).ToList();
            var argo = gitOps.Enabled ? "; " + await gitOps.WaitHealthyAsync(lease, slot, app.Name, ct) : "";
            return (true, (restarting.Count == 0
                ? $"{rollout.Ready}/{rollout.Desired} pods ready at {manifests.HostFor(app.Name, slot.Name)}"
                : $"{rollout.Ready}/{rollout.Desired} pods ready; restarted before becoming ready: {string.Join(", ", restarting)}") + argo);
        }, ct);

        await outcome.FinishAsync(lease, DeploymentState.Succeeded, null, ct);
    }

    /// <summary>The digest the tag names now; null when no registry is configured for the image (deployed by tag, as before).</summary>
    private async Task<string?> DigestAsync(string image, CancellationToken ct) => await images.ResolveAsync(image, ct) switch
    {
        null => null,
        { Status: ImageStatus.Found, Digest: { } digest } => digest,
        { Status: ImageStatus.Missing } => throw new DeploymentFailedException($"The image {image} is not built yet: the registry has no such tag."),
        var failed => throw new DeploymentFailedException(failed.Problem ?? $"The registry did not resolve {image}."),
    };
}

/// <summary>A deployment failed for a reason a person must act on; the message says what.</summary>
internal sealed class DeploymentFailedException(string message) : Exception(message);
