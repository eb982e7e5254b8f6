using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Slots;

/// <summary>How holds ended, for the people who held them: one hold (a deployment's page), or a person's latest news (My work).</summary>
internal sealed class HoldEndQueries(IDbContextFactory<PortalDb> dbFactory)
{
    /// <summary>How <paramref name="holdId"/> ended; null while it is active or when there is no such hold.</summary>
    public async Task<HoldEnd?> OfHoldAsync(long holdId, CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        var hold = await db.Holds.AsNoTracking().Include(h => h.Slot).FirstOrDefaultAsync(h => h.Id == holdId, ct);
        return hold is null ? null : HoldEnd.Of(hold, hold.Slot?.Name ?? "");
    }

    /// <summary>
    /// The ends of <paramref name="holderId"/>'s holds that are news to them (QA's outcome, a release by someone
    /// else), newest first.
    /// </summary>
    public async Task<IReadOnlyList<HoldEnd>> NewsForAsync(string holderId, int take = 20, CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        var holds = await db.Holds.AsNoTracking().Include(h => h.Slot)
            .Where(h => h.HolderId == holderId && h.ReleasedAt != null && (h.QaOutcome != null || h.ReleasedById != holderId))
            .OrderByDescending(h => h.ReleasedAt).ThenByDescending(h => h.Id).Take(take).ToListAsync(ct);
        return [.. holds.Select(h => HoldEnd.Of(h, h.Slot?.Name ?? "")!)];
    }

    /// <summary>Who holds <paramref name="slotId"/> now, if anyone: a released deployment offers "deploy again" only when the slot is free or the reader's.</summary>
    public async Task<string?> CurrentHolderIdAsync(int slotId, CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        return await db.Holds.AsNoTracking().Where(h => h.SlotId == slotId && h.ReleasedAt == null).Select(h => h.HolderId).FirstOrDefaultAsync(ct);
    }
}
