using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Deployments;

/// <summary>One of a person's own deployments as My work lists it.</summary>
internal sealed record MyDeploymentRow(long Id, string App, string Branch, string SlotName, DeploymentState State, DateTime CreatedAt, DateTime? FinishedAt, long? HoldId);

/// <summary>The deployments a person asked for, newest first: what runs, what waits, what failed.</summary>
internal sealed class MyDeployments(IDbContextFactory<PortalDb> dbFactory)
{
    public async Task<IReadOnlyList<MyDeploymentRow>> OfAsync(string requesterId, int take = 20, CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        return await db.Deployments.AsNoTracking().Where(d => d.RequestedById == requesterId)
            .OrderByDescending(d => d.Id).Take(take)
            .Select(d => new MyDeploymentRow(d.Id, d.App, d.Branch, d.Slot!.Name, d.State, d.CreatedAt, d.FinishedAt, d.HoldId))
            .ToListAsync(ct);
    }
}
