using System.Security.Claims;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Cluster;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Deployments;

/// <summary>How deployments read back: one by id, a slot's history, the recent list, and what the deploy form offers.</summary>
internal sealed class DeploymentReads(IDbContextFactory<PortalDb> dbFactory, BoardQueries board, ManifestBuilder manifests)
{
    public async Task<DeploymentView?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        var d = await db.Deployments.AsNoTracking().Include(x => x.Slot).Include(x => x.Steps).FirstOrDefaultAsync(x => x.Id == id, ct);
        return d is null ? null : ToView(d);
    }

    /// <summary>Deployments of one app into one slot, newest first: the history a rollback picks from.</summary>
    public async Task<IReadOnlyList<DeploymentView>> HistoryAsync(int slotId, string app, int take = 20, CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        var list = await db.Deployments.AsNoTracking().Include(x => x.Slot).Where(d => d.SlotId == slotId && d.App == app)
            .OrderByDescending(d => d.Id).Take(take).ToListAsync(ct);
        return [.. list.Select(ToView)];
    }

    public async Task<IReadOnlyList<DeploymentView>> RecentAsync(int take = 50, CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        var list = await db.Deployments.AsNoTracking().Include(x => x.Slot).OrderByDescending(d => d.Id).Take(take).ToListAsync(ct);
        return [.. list.Select(ToView)];
    }

    /// <summary>The branches of <paramref name="app"/> that <paramref name="user"/> deployed lately, most recent first: the form lists them first.</summary>
    public async Task<IReadOnlyList<string>> RecentBranchesAsync(ClaimsPrincipal user, string app, CancellationToken ct = default)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return [];
        }

        var id = Actor.From(user).Id;
        await using var db = dbFactory.CreateDbContext();
        var latest = await db.Deployments.AsNoTracking().Where(d => d.RequestedById == id && d.App == app)
            .OrderByDescending(d => d.Id).Select(d => d.Branch).Take(50).ToListAsync(ct);
        return [.. latest.Distinct().Take(5)];
    }

    /// <summary>Slots as the deploy form offers them, with who holds each and what runs there.</summary>
    public async Task<IReadOnlyList<SlotChoice>> SlotChoicesAsync(CancellationToken ct = default)
    {
        var cards = await board.GetBoardAsync(ct);
        return [.. cards.Select(s => new SlotChoice(s.Id, s.Name, s.Enabled, s.Hold?.HolderId, s.Hold?.HolderName, s.Hold?.Purpose,
            [.. s.Deployments.Select(d => $"{d.App}@{d.Branch}")]))];
    }

    private DeploymentView ToView(Deployment d) => new(
        d.Id, d.App, d.Branch, d.Commit, d.Image, d.ImageDigest, d.PinnedCommit, d.SlotId, d.Slot?.Name ?? "", d.Slot?.Namespace ?? "", d.HoldId,
        d.RequestedById, d.RequestedByName, d.State, d.CreatedAt, d.StartedAt, d.FinishedAt, d.FailureReason, d.CancelRequested,
        "https://" + manifests.HostFor(d.App, d.Slot?.Name ?? ""),
        [.. d.Steps.OrderBy(s => s.Name).Select(s => new StepView(s.Name, s.State, s.StartedAt, s.FinishedAt, s.Message))])
    { LeaseUntil = d.LeaseUntil, ImageCheckedAt = d.ImageCheckedAt, ImageWaitUntil = d.ImageWaitUntil, ConfigCommit = d.ConfigCommit };

}
