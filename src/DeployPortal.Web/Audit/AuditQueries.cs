using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Audit;

/// <param name="Kinds">The kinds to show; null for every kind but <see cref="HistoryKind.Security"/>.</param>
internal sealed record AuditFilter(string? Slot = null, string? Person = null, int Skip = 0, int Take = 50, IReadOnlyCollection<HistoryKind>? Kinds = null);

internal sealed record AuditPage(IReadOnlyList<AuditEvent> Items, int Total);

/// <summary>Reads the audit log for the history page; newest first.</summary>
internal sealed class AuditQueries(IDbContextFactory<PortalDb> dbFactory)
{
    public async Task<AuditPage> FindAsync(AuditFilter filter, CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        var query = db.AuditEvents.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(filter.Slot))
        {
            query = query.Where(e => e.SlotName == filter.Slot);
        }

        if (!string.IsNullOrWhiteSpace(filter.Person))
        {
            var person = filter.Person.Trim().ToLower();
            query = query.Where(e => e.ActorName.ToLower().Contains(person));
        }

        var kinds = filter.Kinds ?? [HistoryKind.Holds, HistoryKind.Deployments, HistoryKind.Queue, HistoryKind.Slots];
        if (kinds.Count < Enum.GetValues<HistoryKind>().Length)
        {
            var actions = kinds.SelectMany(AuditActions.OfKind).ToList();
            query = query.Where(e => actions.Contains(e.Action));
        }

        var total = await query.CountAsync(ct);
        var items = await query.OrderByDescending(e => e.At).ThenByDescending(e => e.Id)
            .Skip(filter.Skip).Take(Math.Clamp(filter.Take, 1, 500)).ToListAsync(ct);
        return new AuditPage(items, total);
    }

    public async Task<IReadOnlyList<string>> SlotNamesAsync(CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        return [.. (await db.Slots.AsNoTracking().Select(s => s.Name).ToListAsync(ct)).Order(NaturalOrder.Instance)];
    }
}
