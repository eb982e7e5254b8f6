using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>A team's board for browser tests and the docs' screenshots, written straight into the database.</summary>
public static class TeamBoard
{
    /// <summary>
    /// Slots qa-1 … qa-40; Dana holds qa-1 (storefront), Devon qa-2 (storefront on feature/checkout-redesign, and
    /// catalog), Quinn qa-3 (catalog); qa-4 is free again after QA failed Devon's test ("checkout button missing").
    /// </summary>
    public static async Task SeedAsync(TestDatabase database)
    {
        var now = DateTime.UtcNow;
        await using var db = database.Factory.CreateDbContext();
        var existing = await db.Slots.Select(s => s.Name).ToListAsync();
        for (var i = 1; i <= 40; i++)
        {
            if (!existing.Contains($"qa-{i}"))
            {
                db.Slots.Add(new Slot { Name = $"qa-{i}", Namespace = $"qa-{i}", CreatedAt = now });
            }
        }

        await db.SaveChangesAsync();
        var slots = await db.Slots.ToDictionaryAsync(s => s.Name);
        Hold Hold(string slot, string id, string name, string purpose) => new()
        {
            SlotId = slots[slot].Id,
            HolderId = id,
            HolderName = name,
            Purpose = purpose,
            Since = now.AddMinutes(-30),
            Until = now.AddHours(3),
            LastActivityAt = now.AddMinutes(-1),
        };
        var (dana, devon, quinn) = (Hold("qa-1", "dev:dana", "Dana Developer", "login flow"), Hold("qa-2", "dev:devon", "Devon Developer", "checkout"),
            Hold("qa-3", "dev:quinn", "Quinn QA", "catalog regression"));
        var tested = Hold("qa-4", "dev:devon", "Devon Developer", "payment retry");
        (tested.ReleasedAt, tested.ReleasedById, tested.ReleasedByName) = (now.AddMinutes(-20), "dev:quinn", "Quinn QA");
        (tested.ReleaseReason, tested.QaOutcome, tested.ReleaseNote) = (ReleaseReason.QaDone, QaOutcome.Fail, "checkout button missing");
        db.Holds.AddRange(dana, devon, quinn, tested);
        await db.SaveChangesAsync();
        Deployment Deployed(Hold hold, string app, string branch) => new()
        {
            SlotId = hold.SlotId,
            HoldId = hold.Id,
            App = app,
            Branch = branch,
            Commit = "0123456789abcdef0123456789abcdef01234567",
            RequestedById = hold.HolderId,
            RequestedByName = hold.HolderName,
            State = DeploymentState.Succeeded,
            CreatedAt = now.AddMinutes(-20),
            StartedAt = now.AddMinutes(-20),
            FinishedAt = now.AddMinutes(-19),
        };
        db.Deployments.AddRange(Deployed(dana, "storefront", "feature/login"), Deployed(devon, "storefront", "feature/checkout-redesign"),
            Deployed(devon, "catalog", "main"), Deployed(quinn, "catalog", "main"));
        await db.SaveChangesAsync();
    }
}
