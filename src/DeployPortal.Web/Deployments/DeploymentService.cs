using System.Security.Claims;
using DeployPortal.Web.Apps;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Git;
using DeployPortal.Web.Registry;
using DeployPortal.Web.Slots;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Deployments;

/// <summary>
/// Every rule about deployments. A deployment is a database row first (Queued), created in the same
/// transaction as the hold it needs; the Hangfire job that executes it is enqueued after the commit, and the
/// reconciler re-enqueues it if that never happens (crash) or the job storage was lost (restart).
/// </summary>
internal sealed class DeploymentService
{
    private readonly IDbContextFactory<PortalDb> dbFactory;
    private readonly Refusals refusals;
    private readonly ElasticPool elastic;
    private readonly AppCatalog apps;
    private readonly BranchCatalog branches;
    private readonly ImagePreflight images;
    private readonly ImageWait imageWait;
    private readonly SlotChangeNotifier notifier;
    private readonly TimeProvider clock;
    private readonly DeploymentReads reads;
    private readonly DeploymentQueue queue;

    public DeploymentService(
        IDbContextFactory<PortalDb> dbFactory,
        HoldLedger ledger,
        HoldCap holdCap,
        HoldEndings endings,
        BoardQueries board,
        Refusals refusals,
        IdleSlots idle,
        ElasticPool elastic,
        AppCatalog apps,
        BranchCatalog branches,
        ImagePreflight images,
        ImageWait imageWait,
        ManifestBuilder manifests,
        IBackgroundJobClient jobs,
        SlotChangeNotifier notifier,
        TimeProvider clock,
        ILogger<DeploymentService> logger)
    {
        this.dbFactory = dbFactory;
        this.refusals = refusals;
        this.elastic = elastic;
        this.apps = apps;
        this.branches = branches;
        this.images = images;
        this.imageWait = imageWait;
        this.notifier = notifier;
        this.clock = clock;
        reads = new DeploymentReads(dbFactory, board, manifests);
        queue = new DeploymentQueue(dbFactory, ledger, holdCap, endings, idle, jobs, notifier, reads, clock, logger);
    }

    public async Task<Result<DeploymentView>> CreateAsync(ClaimsPrincipal user, DeployRequest request, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.HoldSlots))
        {
            return await refusals.RefuseAsync(user, "Your role cannot deploy. Ask for the Developer or QA role.", ct);
        }

        var app = apps.Find(request.App);
        if (app is null)
        {
            return Fail.Invalid("Choose an app from the list.");
        }

        if (string.IsNullOrWhiteSpace(request.Branch))
        {
            return Fail.Invalid("Choose a branch.");
        }

        RemoteBranch? branch;
        IReadOnlyList<RemoteBranch> known;
        try
        {
            known = await branches.ListAsync(app, refresh: false, ct);
            branch = known.FirstOrDefault(b => b.Name == request.Branch) ?? await branches.ResolveAsync(app, request.Branch, ct);
        }
        catch (GitException ex)
        {
            return Fail.Conflict($"The branches of {app.Name} could not be listed: {ex.Message}");
        }

        if (branch is null)
        {
            return Fail.Invalid(BranchNames.NotFound(app.Name, request.Branch, known.Select(b => b.Name)));
        }

        AwaitedImage? awaited = null;
        if (await images.RefusalAsync(app, branch, ct) is { } refusal)
        {
            if (!request.WhenBuilt || !refusal.NotBuilt)
            {
                return refusal.Failure;
            }

            awaited = new AwaitedImage(branch.Commit, refusal.Image, imageWait.GivesUpAt(DbTime.UtcNow(clock)));
        }

        if (request.SlotId == ElasticPool.AnySlot)
        {
            // "Any slot": the first free one, else a new elastic slot (within the budget), else a refusal that offers the queue.
            var picked = await elastic.ForDeployAsync(user, request.Purpose, request.HoldFor, ct);
            if (!picked.Succeeded)
            {
                return picked.Failure!;
            }

            request = request with { SlotId = picked.Value };
        }

        return await queue.QueueAsync(user, request, app.Name, pinned: null, ct, awaited);
    }

    /// <summary>Deploys the exact commit and image of an earlier deployment again (a rollback), into the slot the caller holds.</summary>
    public async Task<Result<DeploymentView>> RedeployAsync(ClaimsPrincipal user, long deploymentId, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.HoldSlots))
        {
            return await refusals.RefuseAsync(user, "Your role cannot deploy.", ct);
        }

        await using var db = dbFactory.CreateDbContext();
        var earlier = await db.Deployments.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deploymentId, ct);
        if (earlier is null)
        {
            return Fail.NotFound("That deployment does not exist.");
        }

        if (earlier.Commit is null || earlier.Image is null)
        {
            return Fail.Invalid("That deployment never resolved a commit, so there is nothing to deploy again. Deploy the branch instead.");
        }

        return await queue.QueueAsync(user, new DeployRequest(earlier.App, earlier.Branch, earlier.SlotId), earlier.App, new PinnedImage(earlier.Commit, earlier.Image, earlier.ImageDigest), ct);
    }

    public async Task<Result<DeploymentState>> CancelAsync(ClaimsPrincipal user, long deploymentId, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.HoldSlots))
        {
            return await refusals.RefuseAsync(user, "Your role cannot cancel deployments.", ct);
        }

        var actor = Actor.From(user);
        await using var db = dbFactory.CreateDbContext();
        var deployment = await db.Deployments.Include(d => d.Slot).FirstOrDefaultAsync(d => d.Id == deploymentId, ct);
        if (deployment?.Slot is null)
        {
            return Fail.NotFound("That deployment does not exist.");
        }

        var holder = await db.Holds.AsNoTracking().Where(h => h.Id == deployment.HoldId).Select(h => h.HolderId).FirstOrDefaultAsync(ct);
        if (deployment.RequestedById != actor.Id && holder != actor.Id && !user.Can(Policies.Administer))
        {
            return await refusals.RefuseAsync(user, $"Only {deployment.RequestedByName}, the slot's holder or an admin can cancel this deployment.", ct);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var cancelledQueued = await db.Deployments.Where(d => d.Id == deploymentId && (d.State == DeploymentState.Queued || d.State == DeploymentState.WaitingForImage))
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.State, DeploymentState.Cancelled).SetProperty(d => d.FinishedAt, now)
                .SetProperty(d => d.FailureReason, $"Cancelled by {actor.Name} before it started."), ct);
        DeploymentState result;
        if (cancelledQueued == 1)
        {
            result = DeploymentState.Cancelled;
        }
        else if (await db.Deployments.Where(d => d.Id == deploymentId && d.State == DeploymentState.Running)
                     .ExecuteUpdateAsync(s => s.SetProperty(d => d.CancelRequested, true), ct) == 1)
        {
            result = DeploymentState.Running; // the job stops at its next check and marks it Cancelled
        }
        else
        {
            return Fail.Conflict($"Deployment #{deploymentId} has already finished.");
        }

        AuditWriter.Write(db, actor, AuditActions.Cancel, deployment.Slot, $"#{deploymentId} {deployment.App}@{deployment.Branch}", now);
        await db.SaveChangesAsync(ct);
        notifier.Publish(new SlotChange(deployment.SlotId, AuditActions.Cancel, deploymentId));
        return Result<DeploymentState>.Ok(result);
    }

    public Task<DeploymentView?> GetAsync(long id, CancellationToken ct = default) => reads.GetAsync(id, ct);

    /// <summary>Deployments of one app into one slot, newest first: the history a rollback picks from.</summary>
    public Task<IReadOnlyList<DeploymentView>> HistoryAsync(int slotId, string app, int take = 20, CancellationToken ct = default) =>
        reads.HistoryAsync(slotId, app, take, ct);

    public Task<IReadOnlyList<DeploymentView>> RecentAsync(int take = 50, CancellationToken ct = default) => reads.RecentAsync(take, ct);

    /// <summary>The branches of <paramref name="app"/> that <paramref name="user"/> deployed lately, most recent first: the form lists them first.</summary>
    public Task<IReadOnlyList<string>> RecentBranchesAsync(ClaimsPrincipal user, string app, CancellationToken ct = default) =>
        reads.RecentBranchesAsync(user, app, ct);

    /// <summary>Slots as the deploy form offers them, with who holds each and what runs there.</summary>
    public Task<IReadOnlyList<SlotChoice>> SlotChoicesAsync(CancellationToken ct = default) => reads.SlotChoicesAsync(ct);

    /// <summary>
    /// Adds a queued deployment under <paramref name="hold"/> (new or existing, in the caller's transaction) and
    /// its audit event, and saves. The deploy form and the waitlist's hand-over both create deployments here.
    /// The caller enqueues the job after committing.
    /// </summary>
    internal static async Task<Deployment> AddDeploymentAsync(PortalDb db, Slot slot, Hold hold, Actor actor, string app, string branch,
        PinnedImage? pinned, DateTime now, CancellationToken ct, string? via = null, AwaitedImage? awaited = null)
    {
        var deployment = new Deployment
        {
            SlotId = slot.Id,
            App = app,
            Branch = branch,
            Commit = pinned?.Commit ?? awaited?.Commit,
            Image = pinned?.Image ?? awaited?.Image,
            ImageDigest = pinned?.Digest,
            PinnedCommit = pinned is not null,
            RequestedById = actor.Id,
            RequestedByName = actor.Name,
            State = awaited is null ? DeploymentState.Queued : DeploymentState.WaitingForImage,
            CreatedAt = now,
            ImageWaitUntil = awaited?.Until,
            ImageCheckedAt = awaited is null ? null : now,
            ImageChecks = awaited is null ? 0 : 1,
        };
        db.Deployments.Add(deployment);
        await db.SaveChangesAsync(ct);
        deployment.HoldId = hold.Id;
        // An earlier deployment of this app still waiting for its image would start once built and replace this newer one.
        await db.Deployments.Where(d => d.HoldId == hold.Id && d.App == app && d.Id != deployment.Id && d.State == DeploymentState.WaitingForImage)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.State, DeploymentState.Cancelled).SetProperty(d => d.FinishedAt, now)
                .SetProperty(d => d.FailureReason, $"Replaced by #{deployment.Id} ({app} {branch}), asked for by {actor.Name} while this one waited for its image."), ct);
        AuditWriter.Write(db, actor, AuditActions.Deploy, slot,
            $"#{deployment.Id} {app}@{branch}" + (pinned is { } p ? $" (commit {p.Commit[..Math.Min(7, p.Commit.Length)]} again)" : "") + (via is null ? "" : $" ({via})")
            + (awaited is null ? "" : $" (as soon as {awaited.Image} is built)"), now);
        await db.SaveChangesAsync(ct);
        return deployment;
    }

    internal static void Enqueue(IBackgroundJobClient jobs, long deploymentId) =>
        jobs.Enqueue<DeploymentJob>(job => job.RunAsync(deploymentId, CancellationToken.None));

}
