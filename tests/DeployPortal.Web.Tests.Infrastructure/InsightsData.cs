using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>Writes holds and deployments with chosen times straight into the database, as history would have left them.</summary>
public sealed class InsightsData(IDbContextFactory<PortalDb> factory)
{
    public async Task<Slot> SlotAsync(string name, DateTime created, bool enabled = true)
    {
        await using var db = factory.CreateDbContext();
        var slot = new Slot { Name = name, Namespace = name, CreatedAt = created, Enabled = enabled };
        db.Slots.Add(slot);
        await db.SaveChangesAsync();
        return slot;
    }

    public async Task<Hold> HoldAsync(Slot slot, string holder, DateTime since, DateTime? released, ReleaseReason? reason = null, QaOutcome? qa = null,
        string purpose = "testing", string? note = null)
    {
        await using var db = factory.CreateDbContext();
        var hold = new Hold
        {
            SlotId = slot.Id,
            HolderId = holder,
            HolderName = holder,
            Purpose = purpose,
            Since = since,
            Until = (released ?? since) + TimeSpan.FromHours(4),
            ReleasedAt = released,
            ReleaseReason = released is null ? null : reason ?? ReleaseReason.Released,
            QaOutcome = qa,
            ReleaseNote = note,
            ReleasedByName = released is null ? null : "someone",
        };
        db.Holds.Add(hold);
        await db.SaveChangesAsync();
        return hold;
    }

    public async Task<Deployment> DeploymentAsync(Slot slot, Hold? hold, string branch, DeploymentState state, DateTime created, TimeSpan? queued, TimeSpan? ran,
        string app = "storefront")
    {
        await using var db = factory.CreateDbContext();
        var started = queued is { } q ? created + q : (DateTime?)null;
        var deployment = new Deployment
        {
            SlotId = slot.Id,
            HoldId = hold?.Id,
            App = app,
            Branch = branch,
            Commit = "abcdef1234",
            RequestedById = "dana",
            RequestedByName = "Dana",
            State = state,
            CreatedAt = created,
            StartedAt = started,
            FinishedAt = state is DeploymentState.Queued or DeploymentState.Running ? null : (started ?? created) + (ran ?? TimeSpan.Zero),
        };
        db.Deployments.Add(deployment);
        await db.SaveChangesAsync();
        return deployment;
    }
}
