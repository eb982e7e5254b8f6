using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Slots;

/// <summary>The board as data: every slot, its active hold, and what runs there under that hold.</summary>
public sealed class BoardQueries(IDbContextFactory<PortalDb> dbFactory)
{
    public async Task<IReadOnlyList<SlotCard>> GetBoardAsync(CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        var slots = (await db.Slots.AsNoTracking().ToListAsync(ct)).OrderBy(s => s.Name, NaturalOrder.Instance).ToList();
        var holds = await db.Holds.AsNoTracking().Where(h => h.ReleasedAt == null).ToDictionaryAsync(h => h.SlotId, ct);
        var holdIds = holds.Values.Select(h => (long?)h.Id).ToList();
        // What runs in each slot now: the latest deployment of each app under the current hold.
        var deployments = (await db.Deployments.AsNoTracking().Where(d => holdIds.Contains(d.HoldId))
                .Select(d => new { d.Id, d.SlotId, d.App, d.Branch, d.Commit, d.State, d.ImageDigest, d.Image, d.ImageCheckedAt, d.ImageWaitUntil })
                .ToListAsync(ct))
            .GroupBy(d => (d.SlotId, d.App))
            .Select(g => g.MaxBy(d => d.Id)!)
            .ToLookup(d => d.SlotId, d => new SlotDeploymentView(d.Id, d.App, d.Branch, d.Commit, d.State, d.ImageDigest)
            {
                Image = d.State == DeploymentState.WaitingForImage ? d.Image : null,
                ImageCheckedAt = d.State == DeploymentState.WaitingForImage ? d.ImageCheckedAt : null,
                ImageWaitUntil = d.State == DeploymentState.WaitingForImage ? d.ImageWaitUntil : null,
            });
        return [.. slots.Select(s => SlotCard.Of(s, holds.GetValueOrDefault(s.Id)) with { Deployments = [.. deployments[s.Id].OrderBy(d => d.App)] })];
    }
}
