using System.Security.Claims;
using DeployPortal.Web.Apps;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Git;
using DeployPortal.Web.Slots;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Waitlist;

/// <summary>
/// Joining and leaving the queue for slots, and what the queue looks like. Only people whose role can hold
/// slots may queue. A person has at most one waiting entry per app: what they wait for is "my branch of this
/// app, somewhere"; a second entry for the same app (say, for two named slots) could hand them two slots for
/// one need and push everyone else back. Entries for different apps are independent.
/// </summary>
internal sealed class WaitlistService(
    IDbContextFactory<PortalDb> dbFactory,
    HoldLedger ledger,
    Refusals refusals,
    WaitlistHandover handover,
    ElasticPool elastic,
    AppCatalog apps,
    BranchCatalog branches,
    SlotChangeNotifier notifier,
    TimeProvider clock,
    IOptionsMonitor<HoldOptions> holdOptions,
    ILogger<WaitlistService> logger)
{
    /// <summary>How many recently ended holds the typical hold length is taken from, and how far back.</summary>
    private const int HoldSample = 50;
    private static readonly TimeSpan HoldSampleWindow = TimeSpan.FromDays(14);

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public async Task<Result<QueueEntryView>> JoinAsync(ClaimsPrincipal user, JoinQueueRequest request, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.HoldSlots))
        {
            return await refusals.RefuseAsync(user, "Your role cannot queue for slots. Ask for the Developer or QA role.", ct);
        }

        if (apps.Find(request.App) is not { } app)
        {
            return Fail.Invalid("Choose an app from the list.");
        }

        if (string.IsNullOrWhiteSpace(request.Branch))
        {
            return Fail.Invalid("Choose a branch.");
        }

        if (ledger.ValidateClaim(request.Purpose, request.HoldFor, out _) is { } invalid)
        {
            return invalid;
        }

        try
        {
            var listed = await branches.ListAsync(app, refresh: false, ct);
            var known = listed.Any(b => b.Name == request.Branch) || await branches.ResolveAsync(app, request.Branch, ct) is not null;
            if (!known)
            {
                return Fail.Invalid(BranchNames.NotFound(app.Name, request.Branch, listed.Select(b => b.Name)));
            }
        }
        catch (GitException ex)
        {
            return Fail.Conflict($"The branches of {app.Name} could not be listed: {ex.Message}");
        }

        var actor = Actor.From(user);
        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        Slot? slot = null;
        if (request.SlotId is { } slotId)
        {
            slot = await db.Slots.AsNoTracking().FirstOrDefaultAsync(s => s.Id == slotId, ct);
            if (slot is null)
            {
                return Fail.NotFound("That slot does not exist.");
            }

            if (!slot.Enabled)
            {
                return Fail.Invalid($"{slot.Name} is disabled: queue for another slot or for any.");
            }
        }

        // One slot per need: someone the queue already served (or who deployed this app into a slot they hold)
        // deploys there. Their next join would otherwise hand them a second slot at the next release.
        var held = await db.Holds.AsNoTracking()
            .Where(h => h.HolderId == actor.Id && h.ReleasedAt == null && db.Deployments.Any(d => d.HoldId == h.Id && d.App == app.Name))
            .OrderBy(h => h.Id).Select(h => h.Slot!.Name).FirstOrDefaultAsync(ct);
        if (held is not null)
        {
            return Fail.Conflict($"You already hold {held} for {app.Name}: deploy into {held} from the deploy form, or release it before queueing again.");
        }

        var entry = new WaitlistEntry
        {
            SlotId = slot?.Id,
            UserId = actor.Id,
            UserName = actor.Name,
            App = app.Name,
            Branch = request.Branch,
            Purpose = FreeText.Clean(request.Purpose, multiline: false),
            HoldFor = request.HoldFor,
            JoinedAt = now,
            State = WaitlistState.Waiting,
        };
        db.Waitlist.Add(entry);
        AuditWriter.Write(db, actor, AuditActions.QueueJoin, slot, $"{entry.App}@{entry.Branch} ({entry.Purpose}) for {slot?.Name ?? "any slot"}", now);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            var existing = await db.Waitlist.AsNoTracking().Include(e => e.Slot)
                .FirstOrDefaultAsync(e => e.UserId == actor.Id && e.App == app.Name && e.State == WaitlistState.Waiting, ct);
            if (existing is not null && existing.Branch == entry.Branch && existing.SlotId == entry.SlotId && existing.HoldFor == entry.HoldFor)
            {
                return Result<QueueEntryView>.Ok((await GetEntryAsync(existing.Id, ct))!); // a double click: the first one queued
            }

            return Fail.Conflict(existing is null
                ? "Your queue entry changed meanwhile. Look at the queue and try again."
                : $"You are already in the queue for {app.Name} ({existing.Branch} into {existing.Slot?.Name ?? "any slot"}). Leave that entry first to change it.");
        }

        logger.LogInformation("{Actor} joined the queue for {Target}: {App}@{Branch}", actor.Name, slot?.Name ?? "any slot", entry.App, entry.Branch);
        notifier.Publish(new SlotChange(slot?.Id ?? 0, AuditActions.QueueJoin));

        // A slot may have freed between the form's look at the board and this join (its hand-over then found
        // nobody): offer the free slots that fit now, so nobody waits beside a free slot.
        await OfferFittingFreeSlotsAsync(db, slot?.Id, ct);
        if (slot is null)
        {
            // Every slot held: a new elastic slot, when the budget allows, serves the queue at once. Without one the entry waits.
            await elastic.ServeWaitingAsync(actor, CancellationToken.None);
        }

        return Result<QueueEntryView>.Ok((await GetEntryAsync(entry.Id, ct))!);
    }

    /// <summary>Takes an entry out of the queue: its owner may, and an admin may take anyone's out.</summary>
    public async Task<Result<QueueEntryView>> LeaveAsync(ClaimsPrincipal user, long entryId, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.HoldSlots))
        {
            return await refusals.RefuseAsync(user, "Your role cannot change the queue.", ct);
        }

        var actor = Actor.From(user);
        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var entry = await db.Waitlist.AsNoTracking().Include(e => e.Slot).FirstOrDefaultAsync(e => e.Id == entryId, ct);
        if (entry is null)
        {
            return Fail.NotFound("That queue entry does not exist.");
        }

        if (entry.UserId != actor.Id && !user.Can(Policies.Administer))
        {
            return await refusals.RefuseAsync(user, $"Only {entry.UserName} or an admin can take this entry out of the queue.", ct);
        }

        // Conditional: a hand-over that served the entry a moment ago wins, and the person is told so.
        var left = await db.Waitlist.Where(e => e.Id == entryId && e.State == WaitlistState.Waiting)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.State, WaitlistState.Left).SetProperty(e => e.EndedAt, now).SetProperty(e => e.EndedByName, actor.Name), ct);
        if (left == 0)
        {
            var current = await GetEntryAsync(entryId, ct);
            return current?.State == WaitlistState.Served
                ? Fail.Conflict($"Too late to leave: {current.ServedSlotName} was already handed to {current.UserName}. Release it on the board if it is not needed.")
                : Fail.Conflict("That entry already left the queue.");
        }

        var details = $"{entry.App}@{entry.Branch} for {entry.Slot?.Name ?? "any slot"}" + (entry.UserId == actor.Id ? "" : $", {entry.UserName}'s entry");
        AuditWriter.Write(db, actor, AuditActions.QueueLeave, entry.Slot, details, now);
        await db.SaveChangesAsync(ct);
        notifier.Publish(new SlotChange(entry.SlotId ?? 0, AuditActions.QueueLeave));
        return Result<QueueEntryView>.Ok((await GetEntryAsync(entryId, ct))!);
    }

    /// <summary>The waiting entries in order, with positions and expected waits.</summary>
    public async Task<QueueView> GetQueueAsync(CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        var (estimates, typical, sampled) = await EstimateAsync(db, ct);
        var waiting = await db.Waitlist.AsNoTracking().Include(e => e.Slot).Where(e => e.State == WaitlistState.Waiting)
            .OrderBy(e => e.JoinedAt).ThenBy(e => e.Id).ToListAsync(ct);
        return new QueueView([.. waiting.Select(e => ToView(e, estimates.GetValueOrDefault(e.Id)))], typical, sampled);
    }

    /// <summary>One entry with its current position, or where it went.</summary>
    public async Task<QueueEntryView?> GetEntryAsync(long entryId, CancellationToken ct = default)
    {
        await using var db = dbFactory.CreateDbContext();
        var entry = await db.Waitlist.AsNoTracking().Include(e => e.Slot).FirstOrDefaultAsync(e => e.Id == entryId, ct);
        return entry is null ? null : await ToViewAsync(db, entry, ct);
    }

    /// <summary>A person's entries still waiting, and those served or left since <paramref name="since"/>, newest first.</summary>
    public async Task<IReadOnlyList<QueueEntryView>> MineAsync(ClaimsPrincipal user, DateTime since, CancellationToken ct = default)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return [];
        }

        var id = Actor.From(user).Id;
        await using var db = dbFactory.CreateDbContext();
        var entries = await db.Waitlist.AsNoTracking().Include(e => e.Slot)
            .Where(e => e.UserId == id && (e.State == WaitlistState.Waiting || e.EndedAt >= since))
            .OrderByDescending(e => e.Id).Take(20).ToListAsync(ct);
        var views = new List<QueueEntryView>(entries.Count);
        foreach (var entry in entries)
        {
            views.Add(await ToViewAsync(db, entry, ct));
        }

        return views;
    }

    private async Task<QueueEntryView> ToViewAsync(PortalDb db, WaitlistEntry entry, CancellationToken ct)
    {
        if (entry.State == WaitlistState.Waiting)
        {
            var (estimates, _, _) = await EstimateAsync(db, ct);
            return ToView(entry, estimates.GetValueOrDefault(entry.Id));
        }

        var served = entry.DeploymentId is { } deploymentId
            ? await db.Deployments.AsNoTracking().Where(d => d.Id == deploymentId).Select(d => new { SlotName = d.Slot!.Name, d.State }).FirstOrDefaultAsync(ct)
            : null;
        return ToView(entry, null) with { ServedSlotName = served?.SlotName, DeploymentState = served?.State };
    }

    private static QueueEntryView ToView(WaitlistEntry e, WaitEstimator.Estimate? estimate) => new(
        e.Id, e.State, estimate?.Position ?? 0, e.UserId, e.UserName, e.App, e.Branch, e.Purpose, e.SlotId, e.Slot?.Name, e.JoinedAt,
        estimate?.Wait, e.EndedAt, DeploymentId: e.DeploymentId, HoldFor: e.HoldFor);

    private async Task<(Dictionary<long, WaitEstimator.Estimate> Estimates, TimeSpan Typical, int Sampled)> EstimateAsync(PortalDb db, CancellationToken ct)
    {
        var now = Now;
        var windowStart = now - HoldSampleWindow;
        var recent = await db.Holds.AsNoTracking().Where(h => h.ReleasedAt != null && h.ReleasedAt >= windowStart)
            .OrderByDescending(h => h.ReleasedAt).Take(HoldSample).Select(h => new { h.Since, h.ReleasedAt }).ToListAsync(ct);
        var lengths = recent.Select(h => h.ReleasedAt!.Value - h.Since).ToList();
        var typical = WaitEstimator.TypicalHold(lengths, holdOptions.CurrentValue.DefaultDuration);

        var slotRows = await db.Slots.AsNoTracking().Select(s => new { s.Id, s.Enabled }).ToListAsync(ct);
        var active = await db.Holds.AsNoTracking().Where(h => h.ReleasedAt == null).ToDictionaryAsync(h => h.SlotId, ct);
        var slotsNow = slotRows.Select(s => active.TryGetValue(s.Id, out var h)
            ? new WaitEstimator.SlotNow(s.Id, s.Enabled, h.Since, h.Until)
            : new WaitEstimator.SlotNow(s.Id, s.Enabled, null, null)).ToList();
        var waiters = await db.Waitlist.AsNoTracking().Where(e => e.State == WaitlistState.Waiting)
            .OrderBy(e => e.JoinedAt).ThenBy(e => e.Id).Select(e => new WaitEstimator.Waiter(e.Id, e.SlotId)).ToListAsync(ct);
        var estimates = WaitEstimator.Replay(now, typical, slotsNow, waiters).ToDictionary(e => e.Id);
        return (estimates, typical, lengths.Count);
    }

    private async Task OfferFittingFreeSlotsAsync(PortalDb db, int? slotId, CancellationToken ct)
    {
        var free = await db.Slots.AsNoTracking()
            .Where(s => s.Enabled && (slotId == null || s.Id == slotId) && !db.Holds.Any(h => h.SlotId == s.Id && h.ReleasedAt == null))
            .OrderBy(s => s.Name).Select(s => s.Id).ToListAsync(ct);
        foreach (var id in free)
        {
            await handover.OfferAsync(id, CancellationToken.None);
        }
    }
}
