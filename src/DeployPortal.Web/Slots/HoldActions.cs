using System.Security.Claims;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// What a holder does with a slot: claim it, extend the hold, release it (and QA or an admin releasing someone
/// else's). Pages, the API and the queue's users call this; it checks the caller's rights itself, so a hidden button
/// is never the only guard. Exclusivity is decided by the database (one active hold per slot), never by a read
/// followed by a write.
/// </summary>
internal sealed class HoldActions
{
    private readonly IDbContextFactory<PortalDb> dbFactory;
    private readonly SlotChangeNotifier notifier;
    private readonly TimeProvider clock;
    private readonly HoldLedger ledger;
    private readonly HoldCap cap;
    private readonly HoldEndings endings;
    private readonly Refusals refusals;
    private readonly ILogger<HoldActions> logger;
    private readonly HoldExtension extension;

    public HoldActions(
        IDbContextFactory<PortalDb> dbFactory,
        SlotChangeNotifier notifier,
        TimeProvider clock,
        IOptionsMonitor<HoldOptions> holdOptions,
        HoldLedger ledger,
        HoldCap cap,
        HoldEndings endings,
        Refusals refusals,
        ILogger<HoldActions> logger)
    {
        this.dbFactory = dbFactory;
        this.notifier = notifier;
        this.clock = clock;
        this.ledger = ledger;
        this.cap = cap;
        this.endings = endings;
        this.refusals = refusals;
        this.logger = logger;
        extension = new HoldExtension(dbFactory, notifier, clock, holdOptions, refusals);
    }

    private DateTime Now => DbTime.UtcNow(clock);

    public async Task<Result<HoldView>> ClaimAsync(ClaimsPrincipal user, ClaimRequest request, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.HoldSlots))
        {
            return await refusals.RefuseAsync(user, "Your role cannot claim slots. Ask for the Developer or QA role.", ct);
        }

        if (ledger.ValidateClaim(request.Purpose, request.Duration, out var duration) is { } invalid)
        {
            return invalid;
        }

        var actor = Actor.From(user);
        var now = Now;
        await using (var db = dbFactory.CreateDbContext())
        {
            // The slot and its active hold in one read. A slot someone holds is refused from this read alone, without
            // a transaction: under contention most claims are such refusals. Claims on a slot that looked free take
            // turns in the ledger, where the first wins and the others are told who won.
            var found = await (
                from s in db.Slots.AsNoTracking()
                where s.Id == request.SlotId
                join h in db.Holds.AsNoTracking().Where(h => h.ReleasedAt == null) on s.Id equals h.SlotId into active
                from h in active.DefaultIfEmpty()
                select new { Slot = s, Active = h }).FirstOrDefaultAsync(ct);
            if (found is null)
            {
                return Fail.NotFound("That slot does not exist.");
            }

            var slot = found.Slot;
            if (!slot.Enabled)
            {
                return Fail.Invalid($"{slot.Name} is disabled and cannot be claimed.");
            }

            if (found.Active is { } current && current.Until > now)
            {
                return HeldBy(slot, actor, current);
            }

            if (await cap.RefusalAsync(db, user, now, ct) is { } capped)
            {
                return capped;
            }

            ClaimWrite claim;
            try
            {
                // The hold, its audit event and any hold ended on the way commit together. Claims that looked free take
                // turns at the slot's lock inside the ledger; who lost is told who won, with nothing written.
                await using var tx = await db.Database.BeginTransactionAsync(ct);
                claim = await HoldLedger.AddClaimAsync(db, slot, actor, request.Purpose, duration, now, ct);
                if (claim.HeldBy is { } winner)
                {
                    return HeldBy(slot, actor, winner);
                }

                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
            }
            catch (DbUpdateException ex) when (ex.IsUniqueViolation())
            {
                // The index's last word (a replica still running code that claimed without the turn, mid-upgrade). Report who.
                return HeldBy(slot, actor, await ledger.ActiveHoldAsync(slot.Id, ct));
            }

            var hold = claim.Hold!;
            logger.LogInformation("{Actor} claimed {Slot} until {Until}", actor.Name, slot.Name, hold.Until);
            await endings.ExpiredInPassingAsync(slot, claim.Expired, ct);
            notifier.Publish(new SlotChange(slot.Id, AuditActions.Claim));
            return Result<HoldView>.Ok(HoldView.Of(hold));
        }
    }

    /// <summary>
    /// Extends a hold. <paramref name="seenUntil"/> is the end the caller saw: when given, an extension that
    /// already happened (a replayed click or request) is reported as a conflict instead of being applied twice.
    /// </summary>
    public Task<Result<HoldView>> ExtendAsync(ClaimsPrincipal user, int slotId, long holdId, TimeSpan extendBy, DateTime? seenUntil = null,
        CancellationToken ct = default) => extension.ExtendAsync(user, slotId, holdId, extendBy, seenUntil, ct);

    /// <summary>
    /// Ends a hold. The holder may release their own; QA and Admin may release anyone's by recording the
    /// QA outcome; Admin may force-release without one. <see cref="ReleaseRequest.HoldId"/> names the hold
    /// the caller saw, so a stale page can never release a newer hold.
    /// </summary>
    public async Task<Result<ReleaseReason>> ReleaseAsync(ClaimsPrincipal user, ReleaseRequest request, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.HoldSlots))
        {
            return await refusals.RefuseAsync(user, "Your role cannot release slots.", ct);
        }

        if (FreeText.Problem(request.Note, multiline: true) is { } badNote)
        {
            return Fail.Invalid("The note " + badNote);
        }

        var note = FreeText.IsBlank(request.Note) ? null : FreeText.Clean(request.Note!, multiline: true);
        if (note is { Length: > HoldLimits.NoteMaxLength })
        {
            return Fail.Invalid($"The note can be at most {HoldLimits.NoteMaxLength} characters.");
        }

        var actor = Actor.From(user);
        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var hold = await db.Holds.Include(h => h.Slot).FirstOrDefaultAsync(h => h.Id == request.HoldId && h.SlotId == request.SlotId, ct);
        if (hold?.Slot is null)
        {
            return Fail.NotFound("That hold does not exist.");
        }

        if (hold.ReleasedAt is not null)
        {
            return Fail.Conflict($"{hold.Slot.Name} was already released by {hold.ReleasedByName}.");
        }

        var own = hold.HolderId == actor.Id;
        ReleaseReason reason;
        if (request.Outcome is not null)
        {
            if (!own && !user.Can(Policies.ReleaseAnySlot))
            {
                return await refusals.RefuseAsync(user, $"Only {hold.HolderName}, QA or an admin can release {hold.Slot.Name}.", ct);
            }

            reason = ReleaseReason.QaDone;
        }
        else if (own)
        {
            reason = ReleaseReason.Released;
        }
        else if (user.Can(Policies.Administer))
        {
            reason = ReleaseReason.Forced;
        }
        else if (user.Can(Policies.ReleaseAnySlot))
        {
            return Fail.Invalid($"Record the QA outcome (pass or fail) to release {hold.HolderName}'s slot.");
        }
        else
        {
            return await refusals.RefuseAsync(user, $"{hold.Slot.Name} is held by {hold.HolderName}; only they, QA or an admin can release it.", ct);
        }

        var updated = await db.Holds.Where(h => h.Id == hold.Id && h.ReleasedAt == null).ExecuteUpdateAsync(s => s
            .SetProperty(h => h.ReleasedAt, now)
            .SetProperty(h => h.ReleasedById, actor.Id)
            .SetProperty(h => h.ReleasedByName, actor.Name)
            .SetProperty(h => h.ReleaseReason, reason)
            .SetProperty(h => h.QaOutcome, request.Outcome)
            .SetProperty(h => h.ReleaseNote, note), ct);
        if (updated == 0)
        {
            return Fail.Conflict($"{hold.Slot.Name} was released by someone else a moment ago.");
        }

        var (action, details) = reason switch
        {
            ReleaseReason.QaDone => (AuditActions.QaDone, $"QA {request.Outcome?.ToString().ToLowerInvariant()} for {hold.HolderName} ({hold.Purpose})" + (note is null ? "" : $": {note}")),
            ReleaseReason.Forced => (AuditActions.ForceRelease, $"Took {hold.Slot.Name} back from {hold.HolderName} ({hold.Purpose})"),
            _ => (AuditActions.Release, hold.Purpose),
        };
        AuditWriter.Write(db, actor, action, hold.Slot, details, now);
        await db.SaveChangesAsync(ct);
        await endings.StartTeardownAsync([hold], ct);
        logger.LogInformation("{Actor} released {Slot} ({Reason})", actor.Name, hold.Slot.Name, reason);
        notifier.Publish(new SlotChange(hold.SlotId, action));
        endings.RaiseReleased(hold, actor, reason, request.Outcome, note);
        await endings.OfferToQueueAsync(hold.SlotId);
        return Result<ReleaseReason>.Ok(reason);
    }

    /// <summary>
    /// The answer to a claim on a slot <paramref name="holder"/> holds: refused, naming them, or, when the holder is
    /// the caller (a double click, the first click already won), their hold.
    /// </summary>
    private static Result<HoldView> HeldBy(Slot slot, Actor actor, Hold? holder) =>
        HoldLedger.Lost(slot, actor, holder) is { } failure ? failure : Result<HoldView>.Ok(HoldView.Of(holder!) with { AlreadyYours = true });
}
