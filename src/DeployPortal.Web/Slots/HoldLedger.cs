using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// The rules for writing holds inside someone else's transaction: a claim from the board or the API, a deploy into
/// a free slot, a hand-over from the queue, a deploy renewing the hold it runs under. Exclusivity is decided by the
/// database: claims on one slot take turns at its lock, and one active hold per slot (IX_Holds_ActivePerSlot) is the
/// last word when the caller saves; never by a read outside the claim's transaction.
/// </summary>
internal sealed class HoldLedger(IDbContextFactory<PortalDb> dbFactory, IOptionsMonitor<HoldOptions> holdOptions)
{
    private HoldOptions Options => holdOptions.CurrentValue;

    /// <summary>Checks a claim's purpose and length; <paramref name="duration"/> is the length to use.</summary>
    public Failure? ValidateClaim(string? purpose, TimeSpan? requested, out TimeSpan duration)
    {
        duration = requested ?? Options.DefaultDuration;
        if (ValidatePurpose(purpose) is { } invalidPurpose)
        {
            return invalidPurpose;
        }

        if (duration <= TimeSpan.Zero)
        {
            return Fail.Invalid("Choose how long you need the slot.");
        }

        if (duration < Options.MinDuration)
        {
            return Fail.Invalid($"A hold lasts at least {TimeText.Duration(Options.MinDuration)}; release the slot when you are done sooner.");
        }

        return duration > Options.MaxDuration ? Fail.Invalid($"A hold can last at most {TimeText.Duration(Options.MaxDuration)}.") : null;
    }

    /// <summary>
    /// Claims <paramref name="slot"/> inside the caller's transaction: adds a new hold and its audit event to
    /// <paramref name="db"/> (the caller saves and commits), or, when someone holds the slot, writes nothing and names
    /// them. A hold past its end that the expiry job has not reached yet is ended on the way, so it does not block.
    /// <para>
    /// Claims on one slot take turns: PostgreSQL locks the slot's row until the transaction ends (FOR NO KEY UPDATE, so
    /// rows that refer to the slot still insert); SQLite's write transaction (BEGIN IMMEDIATE) admits one writer at a
    /// time. So the holds read here include every earlier claim, committed and perhaps already released. Without the turn
    /// a claim could miss a hold still being written, wait for it at the unique index, and after its release start
    /// earlier than that release: two holds overlapping in the history. The unique index stays the last word.
    /// </para>
    /// </summary>
    public static async Task<ClaimWrite> AddClaimAsync(PortalDb db, Slot slot, Actor actor, string purpose, TimeSpan duration, DateTime now, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A claim is written inside a transaction; begin one first.");
        }

        if (db is PostgresPortalDb)
        {
            // Every claim test on PostgreSQL runs this statement; a renamed table or key fails them all.
            await db.Database.ExecuteSqlAsync($"""SELECT 1 FROM "Slots" WHERE "Id" = {slot.Id} FOR NO KEY UPDATE""", ct);
        }

        // Active holds first, then the last release: releases take no turn, and one that commits between the two reads
        // is seen by the first or by the second, never missed by both.
        var active = await db.Holds.Where(h => h.SlotId == slot.Id && h.ReleasedAt == null).ToListAsync(ct);
        // No earlier than the slot's last release, which may have committed after the caller took the time.
        var lastRelease = await db.Holds.Where(h => h.SlotId == slot.Id && h.ReleasedAt != null).MaxAsync(h => h.ReleasedAt, ct);
        now = lastRelease > now ? lastRelease.Value : now;
        if (active.FirstOrDefault(h => h.Until > now) is { } holder)
        {
            return new ClaimWrite(null, [], holder);
        }

        foreach (var old in active)
        {
            old.ReleasedAt = now;
            old.ReleasedById = Actor.System.Id;
            old.ReleasedByName = Actor.System.Name;
            old.ReleaseReason = ReleaseReason.Expired;
            AuditWriter.Write(db, Actor.System, AuditActions.Expire, slot, ExpiredDetails(old), now);
        }

        var (hold, audit) = NewClaim(slot, actor, purpose, duration, now);
        db.Holds.Add(hold);
        db.AuditEvents.Add(audit);
        return new ClaimWrite(hold, active, null);
    }

    /// <summary>A new hold and the audit event of its claim, added nowhere yet.</summary>
    internal static (Hold Hold, AuditEvent Audit) NewClaim(Slot slot, Actor actor, string purpose, TimeSpan duration, DateTime now)
    {
        var hold = new Hold { SlotId = slot.Id, HolderId = actor.Id, HolderName = actor.Name, Purpose = FreeText.Clean(purpose, multiline: false), Since = now, Until = DbTime.Truncate(now + duration), LastActivityAt = now };
        return (hold, AuditWriter.Event(actor, AuditActions.Claim, slot, $"{hold.Purpose} · until {hold.Until:u}", now));
    }

    /// <summary>The audit details of a hold that ran out, whoever noticed.</summary>
    internal static string ExpiredDetails(Hold hold) => $"Hold by {hold.HolderName} ({hold.Purpose}) expired";

    /// <summary>
    /// A deploy into a held slot renews the hold (when <see cref="HoldOptions.RenewOnDeploy"/>): its end moves to at
    /// least <see cref="HoldOptions.DefaultDuration"/> from now, never earlier and never past the hard maximum.
    /// Runs inside the deploy's transaction; a hold changed meanwhile is left alone (the deploy still goes ahead).
    /// </summary>
    public async Task RenewForDeployAsync(PortalDb db, Slot slot, Hold active, Actor actor, DateTime now, CancellationToken ct)
    {
        var options = Options;
        if (!options.RenewOnDeploy)
        {
            return;
        }

        var target = DbTime.Truncate(now + options.DefaultDuration);
        var latest = options.LatestEnd(active.Since);
        var renewed = target < latest ? target : latest;
        if (renewed <= active.Until)
        {
            return;
        }

        var updated = await db.Holds.Where(h => h.Id == active.Id && h.ReleasedAt == null && h.Until == active.Until)
            .ExecuteUpdateAsync(s => s.SetProperty(h => h.Until, renewed), ct);
        if (updated == 1)
        {
            AuditWriter.Write(db, actor, AuditActions.Renew, slot, $"Deploy renewed {active.HolderName}'s hold until {renewed:u}"
                + (renewed == latest ? $" (its {TimeText.Duration(options.HardMaxTotal)} limit)" : ""), now);
            active.Until = renewed;
        }
    }

    /// <summary>The message for a claim that lost the race, or null when the winner is the caller (a double click).</summary>
    public async Task<(Hold? Winner, Failure? Failure)> LostClaimAsync(Slot slot, Actor actor, CancellationToken ct)
    {
        var winner = await ActiveHoldAsync(slot.Id, ct);
        return (winner, Lost(slot, actor, winner));
    }

    /// <summary>Why a claim on a slot that <paramref name="holder"/> holds fails, or null when the holder is the caller.</summary>
    internal static Failure? Lost(Slot slot, Actor actor, Hold? holder) => holder switch
    {
        null => Fail.Conflict($"{slot.Name} changed while you were claiming it. Try again."),
        { HolderId: var id } when id == actor.Id => null,
        _ => Fail.Conflict($"{slot.Name} was just taken by {holder.HolderName} ({holder.Purpose})."),
    };

    internal async Task<Hold?> ActiveHoldAsync(int slotId, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        return await db.Holds.AsNoTracking().FirstOrDefaultAsync(h => h.SlotId == slotId && h.ReleasedAt == null, ct);
    }

    private static Failure? ValidatePurpose(string? purpose)
    {
        if (FreeText.Problem(purpose, multiline: false) is { } problem)
        {
            return Fail.Invalid("The purpose " + problem);
        }

        if (FreeText.IsBlank(purpose))
        {
            return Fail.Invalid("Say what you need the slot for, e.g. \"payment test\".");
        }

        return FreeText.Clean(purpose!, multiline: false).Length > HoldLimits.PurposeMaxLength
            ? Fail.Invalid($"The purpose can be at most {HoldLimits.PurposeMaxLength} characters.")
            : null;
    }
}

/// <summary>
/// What <see cref="HoldLedger.AddClaimAsync"/> wrote: the new <see cref="Hold"/> and the holds it ended on the way,
/// or nothing because <see cref="HeldBy"/> holds the slot.
/// </summary>
internal sealed record ClaimWrite(Hold? Hold, List<Hold> Expired, Hold? HeldBy);
