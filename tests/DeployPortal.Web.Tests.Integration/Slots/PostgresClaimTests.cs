using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Slots;

/// <summary>The PostgreSQL claim statement against the real PostgreSQL: what it writes, and what a lost race writes.</summary>
public sealed class PostgresClaimTests : IAsyncLifetime
{
    private static readonly DateTime Now = new(2026, 11, 26, 9, 0, 0, DateTimeKind.Utc);
    private TestDatabase _db = default!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task TryInsert_OnAFreeSlot_WritesTheHoldAndItsAudit_AndALostRaceWritesNothing()
    {
        var slot = await AddSlotAsync();
        var (hold, audit) = HoldLedger.NewClaim(slot, new Actor("dana", "Dana Developer"), "payment test", TimeSpan.FromHours(2), Now);
        var (other, otherAudit) = HoldLedger.NewClaim(slot, new Actor("devon", "Devon"), "other", TimeSpan.FromHours(1), Now);

        PostgresClaim.InsertedHold? won, lost;
        await using (var db = _db.Factory.CreateDbContext())
        {
            won = await PostgresClaim.TryInsertAsync(db, hold, audit, CancellationToken.None);
            lost = await PostgresClaim.TryInsertAsync(db, other, otherAudit, CancellationToken.None);
        }

        Assert.NotNull(won);
        Assert.Null(lost);
        await using var read = _db.Factory.CreateDbContext();
        var saved = Assert.Single(await read.Holds.AsNoTracking().ToListAsync());
        Assert.Equal((won.Id, slot.Id, "dana", "Dana Developer", "payment test", Now, Now.AddHours(2), Now, (DateTime?)null),
            (saved.Id, saved.SlotId, saved.HolderId, saved.HolderName, saved.Purpose, saved.Since, saved.Until, saved.LastActivityAt, saved.ReleasedAt));
        var written = Assert.Single(await read.AuditEvents.AsNoTracking().ToListAsync());
        Assert.Equal((audit.At, audit.ActorId, audit.ActorName, AuditActions.Claim, (int?)slot.Id, slot.Name, audit.Details),
            (written.At, written.ActorId, written.ActorName, written.Action, written.SlotId, written.SlotName, written.Details));
    }

    [Fact]
    public async Task TryInsert_AfterAReleaseLaterThanItsTime_StartsAtTheRelease()
    {
        var slot = await AddSlotAsync();
        var released = Now.AddMinutes(5);
        await using (var db = _db.Factory.CreateDbContext())
        {
            db.Holds.Add(new Hold { SlotId = slot.Id, HolderId = "ada", HolderName = "Ada", Purpose = "before", Since = Now.AddHours(-1), Until = Now.AddHours(1), ReleasedAt = released });
            await db.SaveChangesAsync();
        }

        var (hold, audit) = HoldLedger.NewClaim(slot, new Actor("dana", "Dana"), "after", TimeSpan.FromHours(1), Now);
        await using var claim = _db.Factory.CreateDbContext();
        var won = await PostgresClaim.TryInsertAsync(claim, hold, audit, CancellationToken.None);

        Assert.Equal((released, released.AddHours(1)), (won!.Since, won.Until));
    }

    private async Task<Slot> AddSlotAsync()
    {
        await using var db = _db.Factory.CreateDbContext();
        var slot = new Slot { Name = "qa-1", Namespace = "qa-1", CreatedAt = Now };
        db.Slots.Add(slot);
        await db.SaveChangesAsync();
        return slot;
    }
}
