using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Slots;

/// <summary>One past or current hold of a slot: who, for what, what they deployed, and how it ended.</summary>
public sealed record SlotHoldHistory(
    long HoldId,
    string HolderName,
    string Purpose,
    DateTime Since,
    DateTime Until,
    DateTime? ReleasedAt,
    string? ReleasedByName,
    ReleaseReason? Reason,
    QaOutcome? Outcome,
    string? Note,
    IReadOnlyList<SlotDeploymentView> Deployments)
{
    public bool IsActive => ReleasedAt is null;
}

/// <summary>Reads a slot's hold history for the slot page; newest first.</summary>
public sealed class SlotHistoryQueries(IDbContextFactory<PortalDb> dbFactory)
{
    public async Task<IReadOnlyList<SlotHoldHistory>> ForSlotAsync(int slotId, int take = 50, CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        var holds = await db.Holds.AsNoTracking().Where(h => h.SlotId == slotId)
            .OrderByDescending(h => h.Since).ThenByDescending(h => h.Id).Take(Math.Clamp(take, 1, 500)).ToListAsync(ct);
        var ids = holds.Select(h => (long?)h.Id).ToList();
        var deployments = (await db.Deployments.AsNoTracking().Where(d => ids.Contains(d.HoldId))
                .Select(d => new { d.Id, d.HoldId, d.App, d.Branch, d.Commit, d.State })
                .ToListAsync(ct))
            .OrderBy(d => d.Id)
            .ToLookup(d => d.HoldId!.Value, d => new SlotDeploymentView(d.Id, d.App, d.Branch, d.Commit, d.State));
        return [.. holds.Select(h => new SlotHoldHistory(h.Id, h.HolderName, h.Purpose, h.Since, h.Until, h.ReleasedAt, h.ReleasedByName,
            h.ReleaseReason, h.QaOutcome, h.ReleaseNote, [.. deployments[h.Id]]))];
    }
}
