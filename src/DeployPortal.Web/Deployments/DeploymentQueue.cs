using System.Security.Claims;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Deployments;

/// <summary>
/// Queues a deployment that passed the request checks: the slot rule, the claim of a free slot (or the renewal of the
/// caller's hold) and the deployment row in one transaction, then the job after the commit.
/// </summary>
internal sealed class DeploymentQueue(
    IDbContextFactory<PortalDb> dbFactory,
    HoldLedger ledger,
    HoldCap holdCap,
    HoldEndings endings,
    IdleSlots idle,
    IBackgroundJobClient jobs,
    SlotChangeNotifier notifier,
    DeploymentReads reads,
    TimeProvider clock,
    ILogger<DeploymentService> logger)
{
    public async Task<Result<DeploymentView>> QueueAsync(ClaimsPrincipal user, DeployRequest request, string app, PinnedImage? pinned, CancellationToken ct,
        AwaitedImage? awaited = null)
    {
        var actor = Actor.From(user);
        var now = DbTime.UtcNow(clock);
        await using var db = dbFactory.CreateDbContext();
        var slot = await db.Slots.AsNoTracking().FirstOrDefaultAsync(s => s.Id == request.SlotId, ct);
        if (slot is null)
        {
            return Fail.NotFound("That slot does not exist.");
        }

        var active = slot.Enabled
            ? await db.Holds.AsNoTracking().FirstOrDefaultAsync(h => h.SlotId == slot.Id && h.ReleasedAt == null && h.Until > now, ct)
            : null;
        switch (SlotDeployRule.Check(slot.Enabled, active?.HolderId, actor.Id, user.Can(Policies.Administer)))
        {
            case DeployRefusal.Disabled:
                return Fail.Invalid($"{slot.Name} is disabled: deploy into another slot.");
            case DeployRefusal.HeldByOther:
                return Fail.Conflict($"{slot.Name} is held by {active!.HolderName} ({active.Purpose}). Pick a free slot or ask them.");
        }

        TimeSpan holdFor = default;
        if (active is null && ledger.ValidateClaim(request.Purpose, request.HoldFor, out holdFor) is { } invalidClaim)
        {
            return invalidClaim;
        }

        if (active is null && await holdCap.RefusalAsync(db, user, now, ct) is { } capped)
        {
            return capped;
        }

        if (pinned is null && active is not null && await QueuedTwinAsync(slot.Id, app, request.Branch, actor, ct) is { } waiting)
        {
            // The same deployment already waits; asking again still shows the slot is in use.
            await ledger.RenewForDeployAsync(db, slot, active, actor, now, ct);
            await db.SaveChangesAsync(ct);
            return Result<DeploymentView>.Ok(waiting);
        }

        Deployment deployment;
        List<Hold> expired = [];
        Hold hold;
        try
        {
            // The hold and the deployment are one step: either both exist afterwards or neither does.
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            if (active is null)
            {
                var claim = await HoldLedger.AddClaimAsync(db, slot, actor, request.Purpose!, holdFor, now, ct);
                if (claim.HeldBy is not null)
                {
                    // Claimed since the read above (perhaps by this same request, sent twice): nothing written.
                    await tx.RollbackAsync(ct);
                    return await LostClaimAsync();
                }

                (hold, expired) = (claim.Hold!, claim.Expired);
            }
            else
            {
                hold = active;
                // A deploy shows the slot is in use: push a near end out again (bounded by the hard maximum).
                await ledger.RenewForDeployAsync(db, slot, active, actor, now, ct);
            }

            deployment = await DeploymentService.AddDeploymentAsync(db, slot, hold, actor, app, request.Branch, pinned, now, ct, awaited: awaited);
            await tx.CommitAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // An identical request committed first (IX_Deployments_QueuedTwin, or the index's last word on the claim).
            return await LostClaimAsync();
        }

        await endings.ExpiredInPassingAsync(slot, expired, ct);
        if (active is not null)
        {
            // The hold was read before this transaction; a release may have committed since.
            await endings.TearDownIfReleasedAsync(hold.Id, ct);
        }

        await idle.OnDeployAsync(slot.Id, ct);
        if (awaited is null)
        {
            DeploymentService.Enqueue(jobs, deployment.Id);
        }

        logger.LogInformation("{Actor} queued deployment {Id}: {App}@{Branch} into {Slot}{Waiting}", actor.Name, deployment.Id, app, request.Branch, slot.Name,
            awaited is null ? "" : $", waiting for {awaited.Image}");
        notifier.Publish(new SlotChange(slot.Id, AuditActions.Deploy, deployment.Id));
        return Result<DeploymentView>.Ok((await reads.GetAsync(deployment.Id, ct))!);

        // Another request won the slot. When it was this same deployment, answer with it rather than with a conflict.
        async Task<Result<DeploymentView>> LostClaimAsync()
        {
            if (pinned is null && await QueuedTwinAsync(slot.Id, app, request.Branch, actor, ct) is { } twin)
            {
                return Result<DeploymentView>.Ok(twin);
            }

            var (_, failure) = await ledger.LostClaimAsync(slot, actor, ct);
            return failure ?? Fail.Conflict($"{slot.Name} changed while you were deploying. Try again.");
        }
    }

    /// <summary>The caller's own deployment of this branch that still waits to start in this slot, if any.</summary>
    private async Task<DeploymentView?> QueuedTwinAsync(int slotId, string app, string branch, Actor actor, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        var id = await db.Deployments.AsNoTracking()
            .Where(d => d.SlotId == slotId && d.App == app && d.Branch == branch && d.RequestedById == actor.Id
                && (d.State == DeploymentState.Queued || d.State == DeploymentState.WaitingForImage) && !d.PinnedCommit)
            .Select(d => (long?)d.Id).FirstOrDefaultAsync(ct);
        return id is null ? null : await reads.GetAsync(id.Value, ct);
    }
}
