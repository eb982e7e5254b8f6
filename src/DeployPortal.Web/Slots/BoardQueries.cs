using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Slots;

/// <summary>The board as data: every slot (but elastic slots removed), its active hold, and what runs there under that hold.</summary>
internal sealed class BoardQueries(IDbContextFactory<PortalDb> dbFactory)
{
    public async Task<IReadOnlyList<SlotCard>> GetBoardAsync(CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        var slots = Ordered(await db.Slots.AsNoTracking().Where(s => s.RemovedAt == null).ToListAsync(ct));
        var holds = await db.Holds.AsNoTracking().Where(h => h.ReleasedAt == null).ToDictionaryAsync(h => h.SlotId, ct);
        var verdicts = await VerdictsAsync(db, [.. slots.Where(s => !holds.ContainsKey(s.Id)).Select(s => s.Id)], ct);
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
        return [.. slots.Select(s => SlotCard.Of(s, holds.GetValueOrDefault(s.Id)) with
        {
            Deployments = [.. deployments[s.Id].OrderBy(d => d.App)],
            LastVerdict = verdicts.GetValueOrDefault(s.Id),
        })];
    }

    /// <summary>The board's order: the positions admins set first (lowest first), then natural name order (qa-2 before qa-10).</summary>
    public static List<Slot> Ordered(IEnumerable<Slot> slots) =>
        [.. slots.OrderBy(s => s.Position is null).ThenBy(s => s.Position).ThenBy(s => s.Name, NaturalOrder.Instance)];

    // QA's verdict on each free slot's last hold, when QA released it: the holder sees the outcome on the board until
    // the slot is claimed again.
    private static async Task<Dictionary<int, SlotVerdictView>> VerdictsAsync(PortalDb db, List<int> freeSlotIds, CancellationToken ct)
    {
        var lastHoldIds = await db.Holds.AsNoTracking().Where(h => h.ReleasedAt != null && freeSlotIds.Contains(h.SlotId))
            .GroupBy(h => h.SlotId).Select(g => g.Max(h => h.Id)).ToListAsync(ct);
        var lastHolds = await db.Holds.AsNoTracking().Where(h => lastHoldIds.Contains(h.Id) && h.ReleaseReason == ReleaseReason.QaDone).ToListAsync(ct);
        return lastHolds.Select(h => (h.SlotId, Verdict: SlotVerdictView.Of(h))).Where(v => v.Verdict is not null).ToDictionary(v => v.SlotId, v => v.Verdict!);
    }
}
