using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.RegularExpressions;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Waitlist;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Every rule about slots and holds. Pages, the API and background jobs call this; it checks the caller's
/// rights itself, so a hidden button is never the only guard. Exclusivity is decided by the database
/// (one active hold per slot), never by a read followed by a write.
/// </summary>
public sealed partial class SlotService(
    IDbContextFactory<PortalDb> dbFactory,
    SlotChangeNotifier notifier,
    TimeProvider clock,
    IOptionsMonitor<HoldOptions> holdOptions,
    IBackgroundJobClient jobs,
    WaitlistHandover handover,
    PortalEvents events,
    SlotNamespaces namespaces,
    ILogger<SlotService> logger)
{
    private HoldOptions Options => holdOptions.CurrentValue;

    private DateTime Now => DbTime.UtcNow(clock);

    public async Task<IReadOnlyList<SlotCard>> GetBoardAsync(CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        var slots = await db.Slots.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct);
        var holds = await db.Holds.AsNoTracking().Where(h => h.ReleasedAt == null).ToDictionaryAsync(h => h.SlotId, ct);
        var holdIds = holds.Values.Select(h => (long?)h.Id).ToList();
        // What runs in each slot now: the latest deployment of each app under the current hold.
        var deployments = (await db.Deployments.AsNoTracking().Where(d => holdIds.Contains(d.HoldId))
                .Select(d => new { d.Id, d.SlotId, d.App, d.Branch, d.Commit, d.State })
                .ToListAsync(ct))
            .GroupBy(d => (d.SlotId, d.App))
            .Select(g => g.MaxBy(d => d.Id)!)
            .ToLookup(d => d.SlotId, d => new SlotDeploymentView(d.Id, d.App, d.Branch, d.Commit, d.State));
        return [.. slots.Select(s => ToCard(s, holds.GetValueOrDefault(s.Id)) with { Deployments = [.. deployments[s.Id].OrderBy(d => d.App)] })];
    }

    public async Task<Result<HoldView>> ClaimAsync(ClaimsPrincipal user, ClaimRequest request, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.HoldSlots))
        {
            return await RefuseAsync(user, "Your role cannot claim slots. Ask for the Developer or QA role.", ct);
        }

        if (ValidateClaim(request.Purpose, request.Duration, out var duration) is { } invalid)
        {
            return invalid;
        }

        var actor = Actor.From(user);
        var now = Now;
        await using (var db = dbFactory.CreateDbContext())
        {
            // The slot and its active hold in one read. A slot someone holds is refused from this read alone, without
            // a transaction: under contention most claims are such refusals. A claim on a slot that looked free still
            // has to win at the insert, where the unique index decides between claims that both saw it free.
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

            if (await HoldCapRefusalAsync(db, user, now, ct) is { } capped)
            {
                return capped;
            }

            Hold hold;
            List<Hold> expired = [];
            if (found.Active is null && db is PostgresPortalDb)
            {
                (hold, var audit) = NewClaim(slot, actor, request.Purpose, duration, now);
                if (await TryInsertClaimAsync(db, hold, audit, ct) is not { } inserted)
                {
                    // Someone else's claim committed first. Report who; nothing was written.
                    return HeldBy(slot, actor, await ActiveHoldAsync(slot.Id, ct));
                }

                (hold.Id, hold.Since, hold.Until, hold.LastActivityAt) = (inserted.Id, inserted.Since, inserted.Until, inserted.Since);
            }
            else
            {
                try
                {
                    // The hold, its audit event and any hold released on the way commit together. On SQLite the transaction
                    // takes the write lock first, so the last release read for the hold's start is the last one there is.
                    await using var tx = await db.Database.BeginTransactionAsync(ct);
                    if (found.Active is null)
                    {
                        hold = AddHold(db, slot, actor, request.Purpose, duration, await NotBeforeLastReleaseAsync(db, slot.Id, now, ct));
                    }
                    else
                    {
                        // Held, but past its end and not yet reached by the expiry job: released on the way.
                        (hold, expired) = await AddClaimAsync(db, slot, actor, request.Purpose, duration, now, ct);
                    }

                    await db.SaveChangesAsync(ct);
                    await tx.CommitAsync(ct);
                }
                catch (DbUpdateException ex) when (ex.IsUniqueViolation())
                {
                    // Someone else's claim committed first. Report who, and change nothing.
                    return HeldBy(slot, actor, await ActiveHoldAsync(slot.Id, ct));
                }
            }

            logger.LogInformation("{Actor} claimed {Slot} until {Until}", actor.Name, slot.Name, hold.Until);
            await ExpiredInPassingAsync(slot, expired, ct);
            notifier.Publish(new SlotChange(slot.Id, AuditActions.Claim));
            return Result<HoldView>.Ok(ToView(hold));
        }
    }

    /// <summary>
    /// Extends a hold. <paramref name="seenUntil"/> is the end the caller saw: when given, an extension that
    /// already happened (a replayed click or request) is reported as a conflict instead of being applied twice.
    /// </summary>
    public async Task<Result<HoldView>> ExtendAsync(ClaimsPrincipal user, int slotId, long holdId, TimeSpan extendBy, DateTime? seenUntil = null,
        CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.HoldSlots))
        {
            return await RefuseAsync(user, "Your role cannot extend holds.", ct);
        }

        if (extendBy <= TimeSpan.Zero)
        {
            return Fail.Invalid("Choose how much longer you need the slot.");
        }

        var actor = Actor.From(user);
        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var hold = await db.Holds.Include(h => h.Slot).FirstOrDefaultAsync(h => h.Id == holdId && h.SlotId == slotId, ct);
        if (hold?.Slot is null)
        {
            return Fail.NotFound("That hold does not exist.");
        }

        if (hold.ReleasedAt is not null || hold.Until <= now)
        {
            return Fail.Invalid($"Your hold on {hold.Slot.Name} has ended. Claim the slot again if it is free.");
        }

        if (hold.HolderId != actor.Id)
        {
            return await RefuseAsync(user, $"Only {hold.HolderName} can extend their hold on {hold.Slot.Name}.", ct);
        }

        if (seenUntil is not null && DbTime.Truncate(seenUntil.Value) != DbTime.Truncate(hold.Until))
        {
            return Fail.Conflict($"Your hold on {hold.Slot.Name} was already extended (it now ends {hold.Until:u}). Look at the board and try again.");
        }

        var newUntil = DbTime.Truncate(hold.Until + extendBy);
        var latest = Options.LatestEnd(hold.Since);
        if (newUntil > latest)
        {
            var room = latest - hold.Until;
            return Fail.Invalid($"A hold can last at most {TimeText.Duration(Options.HardMaxTotal)} in total, so your hold on {hold.Slot.Name} must end by {latest:u}; "
                + (room >= TimeSpan.FromMinutes(1) ? $"{TimeText.Duration(room)} more is the most you can add." : "it cannot be extended any further."));
        }

        if (newUntil > now + Options.MaxDuration)
        {
            return Fail.Invalid($"A hold can end at most {TimeText.Duration(Options.MaxDuration)} from now; "
                + $"{TimeText.Duration(now + Options.MaxDuration - hold.Until)} more is the most you can add.");
        }

        // Conditional update: if the hold was released or expired a moment ago, nothing changes.
        var updated = await db.Holds.Where(h => h.Id == holdId && h.ReleasedAt == null && h.Until == hold.Until)
            .ExecuteUpdateAsync(s => s.SetProperty(h => h.Until, newUntil).SetProperty(h => h.LastActivityAt, now), ct);
        if (updated == 0)
        {
            return Fail.Conflict($"Your hold on {hold.Slot.Name} changed meanwhile. Look at the board and try again.");
        }

        db.AuditEvents.Add(Audit(actor, AuditActions.Extend, hold.Slot, $"by {TimeText.Duration(extendBy)} · until {newUntil:u}", now));
        await db.SaveChangesAsync(ct);
        notifier.Publish(new SlotChange(slotId, AuditActions.Extend));
        (hold.Until, hold.LastActivityAt) = (newUntil, now);
        return Result<HoldView>.Ok(ToView(hold));
    }

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
            return await RefuseAsync(user, "Your role cannot release slots.", ct);
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
                return await RefuseAsync(user, $"Only {hold.HolderName}, QA or an admin can release {hold.Slot.Name}.", ct);
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
            return await RefuseAsync(user, $"{hold.Slot.Name} is held by {hold.HolderName}; only they, QA or an admin can release it.", ct);
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
        db.AuditEvents.Add(Audit(actor, action, hold.Slot, details, now));
        await db.SaveChangesAsync(ct);
        await StartTeardownAsync([hold], ct);
        logger.LogInformation("{Actor} released {Slot} ({Reason})", actor.Name, hold.Slot.Name, reason);
        notifier.Publish(new SlotChange(hold.SlotId, action));
        events.Raise(new PortalEvent(PortalEventKind.SlotReleased, hold.Slot.Name, hold.HolderId, hold.HolderName, reason switch
        {
            ReleaseReason.QaDone => $"{actor.Name} released {hold.Slot.Name}: QA {request.Outcome?.ToString().ToLowerInvariant()} for {hold.HolderName} ({hold.Purpose})" + (note is null ? "." : $": {note}"),
            ReleaseReason.Forced => $"{actor.Name} took {hold.Slot.Name} back from {hold.HolderName} ({hold.Purpose}).",
            _ => $"{hold.HolderName} released {hold.Slot.Name} ({hold.Purpose}).",
        }, HistoryLink(hold.Slot)));
        await OfferToQueueAsync(hold.SlotId);
        return Result<ReleaseReason>.Ok(reason);
    }

    /// <summary>Releases every hold past its end. Run by the expiry job; safe to run twice or on two replicas at once.</summary>
    public async Task<int> ExpireDueHoldsAsync(CancellationToken ct = default)
    {
        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var due = await db.Holds.AsNoTracking().Include(h => h.Slot).Where(h => h.ReleasedAt == null && h.Until <= now).ToListAsync(ct);
        var expired = 0;
        foreach (var hold in due)
        {
            var updated = await db.Holds.Where(h => h.Id == hold.Id && h.ReleasedAt == null && h.Until <= now).ExecuteUpdateAsync(s => s
                .SetProperty(h => h.ReleasedAt, now)
                .SetProperty(h => h.ReleasedById, Actor.System.Id)
                .SetProperty(h => h.ReleasedByName, Actor.System.Name)
                .SetProperty(h => h.ReleaseReason, ReleaseReason.Expired), ct);
            if (updated == 0)
            {
                continue;
            }

            expired++;
            db.AuditEvents.Add(Audit(Actor.System, AuditActions.Expire, hold.Slot!, $"Hold by {hold.HolderName} ({hold.Purpose}) expired", now));
            await db.SaveChangesAsync(ct);
            await StartTeardownAsync([hold], ct);
            notifier.Publish(new SlotChange(hold.SlotId, AuditActions.Expire));
            RaiseExpired(hold.Slot!, [hold]);
            await OfferToQueueAsync(hold.SlotId);
        }

        if (expired > 0)
        {
            logger.LogInformation("Expired {Count} holds", expired);
        }

        return expired;
    }

    public async Task<Result<SlotCard>> AddSlotAsync(ClaimsPrincipal user, SlotEdit edit, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.Administer))
        {
            return await RefuseAsync(user, "Only an admin can add slots.", ct);
        }

        if ((ValidateSlot(edit) ?? namespaces.Check(edit.Namespace)) is { } invalid)
        {
            return invalid;
        }

        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var slot = new Slot { Name = edit.Name, Namespace = edit.Namespace, Description = edit.Description.Trim(), UrlPattern = edit.UrlPattern.Trim(), CreatedAt = now };
        db.Slots.Add(slot);
        db.AuditEvents.Add(Audit(Actor.From(user), AuditActions.SlotAdded, slot, $"namespace {slot.Namespace}", now));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return await TakenAsync(slot, ct);
        }

        notifier.Publish(new SlotChange(slot.Id, AuditActions.SlotAdded));
        return Result<SlotCard>.Ok(ToCard(slot, null));
    }

    public async Task<Result<SlotCard>> EditSlotAsync(ClaimsPrincipal user, int slotId, SlotEdit edit, CancellationToken ct = default) =>
        await ChangeSlotAsync(user, slotId, ValidateSlot(edit) ?? namespaces.Check(edit.Namespace), AuditActions.SlotEdited, slot =>
        {
            slot.Name = edit.Name;
            slot.Namespace = edit.Namespace;
            slot.Description = edit.Description.Trim();
            slot.UrlPattern = edit.UrlPattern.Trim();
            return $"namespace {slot.Namespace}";
        }, ct);

    public async Task<Result<SlotCard>> SetEnabledAsync(ClaimsPrincipal user, int slotId, bool enabled, CancellationToken ct = default)
    {
        var result = await ChangeSlotAsync(user, slotId, null, enabled ? AuditActions.SlotEnabled : AuditActions.SlotDisabled, slot =>
        {
            slot.Enabled = enabled;
            return enabled ? "open for claims" : "closed for new claims";
        }, ct);
        if (result.Succeeded && enabled)
        {
            await OfferToQueueAsync(slotId); // a slot opened again is a slot freed for whoever waits
        }

        return result;
    }

    /// <summary>
    /// Sends the "your hold ends soon" reminder for every active hold within <see cref="HoldOptions.RemindBefore"/>
    /// of its end, once per end time: the reminder is recorded with a conditional update, so a second run of the
    /// job (or a second replica) sends nothing, while an extension re-arms it for the new end.
    /// </summary>
    public async Task<int> RemindDueHoldsAsync(CancellationToken ct = default)
    {
        var now = Now;
        var horizon = now + Options.RemindBefore;
        await using var db = dbFactory.CreateDbContext();
        var due = await db.Holds.AsNoTracking().Include(h => h.Slot)
            .Where(h => h.ReleasedAt == null && h.Until > now && h.Until <= horizon && (h.RemindedFor == null || h.RemindedFor != h.Until))
            .ToListAsync(ct);
        var sent = 0;
        foreach (var hold in due)
        {
            var marked = await db.Holds.Where(h => h.Id == hold.Id && h.ReleasedAt == null && h.Until == hold.Until && (h.RemindedFor == null || h.RemindedFor != h.Until))
                .ExecuteUpdateAsync(s => s.SetProperty(h => h.RemindedFor, hold.Until), ct);
            if (marked == 0)
            {
                continue;
            }

            sent++;
            var left = TimeText.Duration(hold.Until - now);
            db.AuditEvents.Add(Audit(Actor.System, AuditActions.Remind, hold.Slot!, $"Reminded {hold.HolderName}: the hold ends in {left}", now));
            await db.SaveChangesAsync(ct);
            var room = Options.RoomToExtend(hold.Since, hold.Until, now);
            events.Raise(new PortalEvent(PortalEventKind.HoldExpiring, hold.Slot!.Name, hold.HolderId, hold.HolderName,
                $"Your hold on {hold.Slot.Name} ({hold.Purpose}) ends in {left}, at {hold.Until:u}. "
                + (room >= TimeSpan.FromMinutes(1) ? "Extend it on the board if you still need it." : "It has reached its limit and cannot be extended."), "/"));
            notifier.Publish(new SlotChange(hold.SlotId, AuditActions.Remind));
        }

        return sent;
    }

    /// <summary>
    /// A deploy into a held slot renews the hold (when <see cref="HoldOptions.RenewOnDeploy"/>): its end moves to at
    /// least <see cref="HoldOptions.DefaultDuration"/> from now, never earlier and never past the hard maximum.
    /// Runs inside the deploy's transaction; a hold changed meanwhile is left alone (the deploy still goes ahead).
    /// </summary>
    internal async Task RenewForDeployAsync(PortalDb db, Slot slot, Hold active, Actor actor, DateTime now, CancellationToken ct)
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
            db.AuditEvents.Add(Audit(actor, AuditActions.Renew, slot, $"Deploy renewed {active.HolderName}'s hold until {renewed:u}"
                + (renewed == latest ? $" (its {TimeText.Duration(options.HardMaxTotal)} limit)" : ""), now));
            active.Until = renewed;
        }
    }

    /// <summary>Hands a freed slot to the queue. Never fails the action that freed it: the expiry job's sweep retries.</summary>
    private async Task OfferToQueueAsync(int slotId)
    {
        try
        {
            await handover.OfferAsync(slotId, CancellationToken.None);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Handing slot {Slot} to the queue failed; the next expiry job run tries again", slotId);
        }
    }

    /// <summary>Holds a claim found past their end and released on the way: clean up and tell their holders.</summary>
    internal async Task ExpiredInPassingAsync(Slot slot, IReadOnlyCollection<Hold> expired, CancellationToken ct)
    {
        await StartTeardownAsync(expired, ct);
        RaiseExpired(slot, expired);
    }

    private async Task<Result<SlotCard>> ChangeSlotAsync(ClaimsPrincipal user, int slotId, Failure? invalid, string action,
        Func<Slot, string> change, CancellationToken ct)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.Administer))
        {
            return await RefuseAsync(user, "Only an admin can change slots.", ct, action);
        }

        if (invalid is not null)
        {
            return invalid;
        }

        await using var db = dbFactory.CreateDbContext();
        var slot = await db.Slots.FirstOrDefaultAsync(s => s.Id == slotId, ct);
        if (slot is null)
        {
            return Fail.NotFound("That slot does not exist.");
        }

        var details = change(slot);
        db.AuditEvents.Add(Audit(Actor.From(user), action, slot, details, Now));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return await TakenAsync(slot, ct);
        }

        notifier.Publish(new SlotChange(slot.Id, action));
        var hold = await db.Holds.AsNoTracking().FirstOrDefaultAsync(h => h.SlotId == slotId && h.ReleasedAt == null, ct);
        return Result<SlotCard>.Ok(ToCard(slot, hold));
    }

    /// <summary>Checks a claim's purpose and length; <paramref name="duration"/> is the length to use.</summary>
    internal Failure? ValidateClaim(string? purpose, TimeSpan? requested, out TimeSpan duration)
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
    /// Adds a new hold (and its audit event) to <paramref name="db"/>, inside the caller's transaction. A hold
    /// past its end that the expiry job has not reached yet is ended first, so it does not block the claim.
    /// Whether the claim wins is decided when the caller saves: the unique index refuses a second active hold.
    /// </summary>
    internal static async Task<(Hold Hold, List<Hold> Expired)> AddClaimAsync(PortalDb db, Slot slot, Actor actor, string purpose, TimeSpan duration, DateTime now, CancellationToken ct)
    {
        now = await NotBeforeLastReleaseAsync(db, slot.Id, now, ct);
        var expired = await db.Holds.Where(h => h.SlotId == slot.Id && h.ReleasedAt == null && h.Until <= now).ToListAsync(ct);
        foreach (var old in expired)
        {
            MarkReleased(old, Actor.System, ReleaseReason.Expired, now);
            db.AuditEvents.Add(Audit(Actor.System, AuditActions.Expire, slot, $"Hold by {old.HolderName} ({old.Purpose}) expired", now));
        }

        return (AddHold(db, slot, actor, purpose, duration, now), expired);
    }

    /// <summary>
    /// A new hold starts no earlier than the slot's last release, which may have committed while this request waited
    /// between taking the time and writing: the history never shows two holds of one slot overlapping.
    /// </summary>
    private static async Task<DateTime> NotBeforeLastReleaseAsync(PortalDb db, int slotId, DateTime now, CancellationToken ct)
    {
        var last = await db.Holds.Where(h => h.SlotId == slotId && h.ReleasedAt != null).MaxAsync(h => h.ReleasedAt, ct);
        return last > now ? last.Value : now;
    }

    /// <summary>Adds a new hold and its audit event to <paramref name="db"/>; the unique index decides at save whether it wins.</summary>
    private static Hold AddHold(PortalDb db, Slot slot, Actor actor, string purpose, TimeSpan duration, DateTime now)
    {
        var (hold, audit) = NewClaim(slot, actor, purpose, duration, now);
        db.Holds.Add(hold);
        db.AuditEvents.Add(audit);
        return hold;
    }

    private static (Hold Hold, AuditEvent Audit) NewClaim(Slot slot, Actor actor, string purpose, TimeSpan duration, DateTime now)
    {
        var hold = new Hold { SlotId = slot.Id, HolderId = actor.Id, HolderName = actor.Name, Purpose = FreeText.Clean(purpose, multiline: false), Since = now, Until = DbTime.Truncate(now + duration), LastActivityAt = now };
        return (hold, Audit(actor, AuditActions.Claim, slot, $"{hold.Purpose} · until {hold.Until:u}", now));
    }

    /// <summary>
    /// PostgreSQL: a claim on a slot that looked free, as one statement (so one transaction and one round trip):
    /// the hold and its audit event, or nothing at all when another claim holds the slot. The ON CONFLICT clause
    /// names IX_Holds_ActivePerSlot by its column and predicate; like a plain insert it waits for a concurrent claim
    /// to commit or roll back, so the index still decides, but a lost race inserts nothing and returns no id
    /// instead of failing with a unique violation (a rollback, an exception, and EF logging it at Error). The hold
    /// starts no earlier than the slot's last release, which may have committed after the caller took the time.
    /// </summary>
    private static async Task<InsertedHold?> TryInsertClaimAsync(PortalDb db, Hold hold, AuditEvent audit, CancellationToken ct)
    {
        var rows = await db.Database.SqlQuery<InsertedHold>($"""
            WITH shift AS (
                SELECT COALESCE(GREATEST(MAX("ReleasedAt") - {hold.Since}, interval '0'), interval '0') AS "By" FROM "Holds" WHERE "SlotId" = {hold.SlotId}),
            hold AS (
                INSERT INTO "Holds" ("SlotId", "HolderId", "HolderName", "Purpose", "Since", "Until", "LastActivityAt")
                SELECT {hold.SlotId}, {hold.HolderId}, {hold.HolderName}, {hold.Purpose}, {hold.Since} + shift."By", {hold.Until} + shift."By", {hold.LastActivityAt} + shift."By"
                FROM shift
                ON CONFLICT ("SlotId") WHERE "ReleasedAt" IS NULL DO NOTHING
                RETURNING "Id", "Since", "Until"),
            audit AS (
                INSERT INTO "AuditEvents" ("At", "ActorId", "ActorName", "Action", "SlotId", "SlotName", "Details")
                SELECT {audit.At}, {audit.ActorId}, {audit.ActorName}, {audit.Action}, {audit.SlotId}, {audit.SlotName}, {audit.Details} FROM hold)
            SELECT "Id", "Since", "Until" FROM hold
            """).ToListAsync(ct);
        return rows.Count == 0 ? null : rows[0];
    }

    private sealed class InsertedHold
    {
        public long Id { get; set; }
        public DateTime Since { get; set; }
        public DateTime Until { get; set; }
    }

    /// <summary>The message for a claim that lost the race, or null when the winner is the caller (a double click).</summary>
    internal async Task<(Hold? Winner, Failure? Failure)> LostClaimAsync(Slot slot, Actor actor, CancellationToken ct)
    {
        var winner = await ActiveHoldAsync(slot.Id, ct);
        return (winner, Lost(slot, actor, winner));
    }

    /// <summary>
    /// The answer to a claim on a slot <paramref name="holder"/> holds: refused, naming them, or, when the holder is
    /// the caller (a double click, the first click already won), their hold.
    /// </summary>
    private static Result<HoldView> HeldBy(Slot slot, Actor actor, Hold? holder) =>
        Lost(slot, actor, holder) is { } failure ? failure : Result<HoldView>.Ok(ToView(holder!) with { AlreadyYours = true });

    /// <summary>Why a claim on a slot that <paramref name="holder"/> holds fails, or null when the holder is the caller.</summary>
    private static Failure? Lost(Slot slot, Actor actor, Hold? holder) => holder switch
    {
        null => Fail.Conflict($"{slot.Name} changed while you were claiming it. Try again."),
        { HolderId: var id } when id == actor.Id => null,
        _ => Fail.Conflict($"{slot.Name} was just taken by {holder.HolderName} ({holder.Purpose})."),
    };

    /// <summary>
    /// After holds end, what the portal deployed for them is removed by a background job; the slot shows
    /// "cleaning" meanwhile. The reconciler restarts a teardown that a crash interrupted. A hold that never
    /// deployed anything has nothing to remove and gets no job (most CI holds, and every release in the API benchmark).
    /// </summary>
    internal async Task StartTeardownAsync(IReadOnlyCollection<Hold> ended, CancellationToken ct)
    {
        foreach (var hold in ended)
        {
            await using var db = dbFactory.CreateDbContext();
            var holdId = hold.Id;
            // What never started is over now, not when the teardown job gets to it: the queue may hand the slot to the
            // same person for the same app and branch in a moment, and a queued twin would block that hand-over.
            var now = Now;
            await db.Deployments.Where(d => d.HoldId == holdId && d.State == DeploymentState.Queued).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, DeploymentState.Cancelled)
                .SetProperty(d => d.FinishedAt, now)
                .SetProperty(d => d.FailureReason, "Cancelled: the slot was released."), ct);
            // The check and the mark are one statement. A deploy that commits under this hold after it is
            // released (it read the hold as active before) sees the release afterwards and calls TearDownIfReleasedAsync.
            var marked = await db.Slots.Where(s => s.Id == hold.SlotId && db.Deployments.Any(d => d.HoldId == holdId)).ExecuteUpdateAsync(s => s
                .SetProperty(x => x.CleaningSince, Now)
                .SetProperty(x => x.CleaningHoldId, holdId), ct);
            if (marked == 0)
            {
                continue;
            }

            var slotId = hold.SlotId;
            jobs.Enqueue<Deployments.SlotTeardownJob>(job => job.RunAsync(slotId, holdId, CancellationToken.None));
        }
    }

    /// <summary>
    /// For a deploy that just committed under an existing hold: when the hold was released meanwhile, its release
    /// may have found nothing to tear down, so this deploy starts the teardown. Both sides check after their own
    /// commit, so at least one of them sees the other.
    /// </summary>
    internal async Task TearDownIfReleasedAsync(long holdId, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        if (await db.Holds.AsNoTracking().FirstOrDefaultAsync(h => h.Id == holdId && h.ReleasedAt != null, ct) is { } released)
        {
            await StartTeardownAsync([released], ct);
        }
    }

    /// <summary>Tells the holders of holds that ran out (by the expiry job, or found expired by a claim). Call after commit.</summary>
    internal void RaiseExpired(Slot slot, IEnumerable<Hold> expired)
    {
        foreach (var hold in expired)
        {
            events.Raise(new PortalEvent(PortalEventKind.HoldExpired, slot.Name, hold.HolderId, hold.HolderName,
                $"{hold.HolderName}'s hold on {slot.Name} ({hold.Purpose}) ran out at {hold.Until:yyyy-MM-dd HH:mm} UTC; the slot is free again.", HistoryLink(slot)));
        }
    }

    // The slot's history shows the hold that just ended and who has the slot now.
    private static string HistoryLink(Slot slot) => "/slots/" + Uri.EscapeDataString(slot.Name);

    /// <summary>
    /// A refusal is recorded before it is returned, so attempts beyond one's rights show up in the history
    /// whichever way they came in (page, API, a crafted circuit message).
    /// </summary>
    internal async Task<Failure> RefuseAsync(ClaimsPrincipal user, string message, CancellationToken ct, [CallerMemberName] string operation = "")
    {
        var id = user.FindFirst(PortalClaims.Subject)?.Value ?? "anonymous";
        var name = user.Identity?.Name ?? id;
        logger.LogWarning("Refused {Operation} for {User}: {Message}", operation, name, message);
        await using var db = dbFactory.CreateDbContext();
        db.AuditEvents.Add(new AuditEvent
        {
            At = Now,
            ActorId = id,
            ActorName = name,
            Action = AuditActions.Denied,
            Details = $"{operation.Replace("Async", "", StringComparison.Ordinal)}: {message}",
        });
        await db.SaveChangesAsync(ct);
        return Fail.Forbidden(message);
    }

    private async Task<Hold?> ActiveHoldAsync(int slotId, CancellationToken ct)
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

    private static Failure? ValidateSlot(SlotEdit edit)
    {
        if (!DnsLabel().IsMatch(edit.Name ?? ""))
        {
            return Fail.Invalid("A slot name must be 1–63 lower-case letters, digits or '-', starting and ending with a letter or digit.");
        }

        if (!DnsLabel().IsMatch(edit.Namespace ?? ""))
        {
            return Fail.Invalid("A namespace must be 1–63 lower-case letters, digits or '-', starting and ending with a letter or digit.");
        }

        if ((FreeText.Problem(edit.Description, multiline: true) ?? FreeText.Problem(edit.UrlPattern, multiline: false)) is { } problem)
        {
            return Fail.Invalid("The description or URL pattern " + problem);
        }

        return (edit.Description?.Length ?? 0) > 500 || (edit.UrlPattern?.Length ?? 0) > 300
            ? Fail.Invalid("The description can be at most 500 characters and the URL pattern 300.")
            : null;
    }

    /// <summary>Which unique rule a new or changed slot broke: another slot has its name, or its namespace.</summary>
    private async Task<Failure> TakenAsync(Slot slot, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        if (await db.Slots.AnyAsync(s => s.Id != slot.Id && s.Name == slot.Name, ct))
        {
            return Fail.Conflict($"A slot named {slot.Name} already exists.");
        }

        var other = await db.Slots.Where(s => s.Id != slot.Id && s.Namespace == slot.Namespace).Select(s => s.Name).FirstOrDefaultAsync(ct);
        return Fail.Conflict(other is null
            ? $"Another slot took the name {slot.Name} or the namespace {slot.Namespace} meanwhile. Look at the board and try again."
            : $"The namespace {slot.Namespace} belongs to {other}: each slot needs a namespace of its own, or deploying into one would replace the other's apps and releasing it would delete them.");
    }

    private static void MarkReleased(Hold hold, Actor by, ReleaseReason reason, DateTime now)
    {
        hold.ReleasedAt = now;
        hold.ReleasedById = by.Id;
        hold.ReleasedByName = by.Name;
        hold.ReleaseReason = reason;
    }

    internal static AuditEvent Audit(Actor actor, string action, Slot slot, string details, DateTime now) => new()
    {
        At = now,
        ActorId = actor.Id,
        ActorName = actor.Name,
        Action = action,
        SlotId = slot.Id == 0 ? null : slot.Id,
        SlotName = slot.Name,
        Details = details.Length > 2000 ? details[..2000] : details,
    };

    private static SlotCard ToCard(Slot s, Hold? hold) =>
        new(s.Id, s.Name, s.Namespace, s.Description, s.UrlPattern, s.Enabled, hold is null ? null : ToView(hold)) { Cleaning = s.CleaningSince is not null };

    internal static HoldView ToView(Hold h) =>
        new(h.Id, h.HolderId, h.HolderName, h.Purpose, h.Since, h.Until) { LastActivityAt = h.LastActivityAt, SleepingSince = h.SleepingSince, KeepDeadline = h.KeepDeadline, KeepWaiterName = h.KeepWaiterName };

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
