using System.Security.Claims;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Slots;

/// <summary>
/// Held slots that nobody uses: activity is recorded on the hold, the board marks a hold idle after
/// <see cref="IdleOptions.After"/>, idle holds are given back (<see cref="IdleGiveBack"/>), and a held slot can be put to sleep
/// (its apps scaled to zero) and woken again. Every change is a conditional update, so double clicks and two
/// replicas do the work once.
/// </summary>
internal sealed class IdleSlots(
    IDbContextFactory<PortalDb> dbFactory,
    Refusals refusals,
    SlotChangeNotifier notifier,
    TimeProvider clock,
    IOptionsMonitor<IdleOptions> options,
    IBackgroundJobClient jobs)
{
    /// <summary>Activity is written at most this often per hold: a page left open must not write on every render.</summary>
    internal static readonly TimeSpan TouchGranularity = TimeSpan.FromMinutes(1);

    private DateTime Now => DbTime.UtcNow(clock);

    /// <summary>Records that someone used the slot now (a page or log view, a deploy). Cheap and safe to call often.</summary>
    public Task TouchAsync(int slotId, CancellationToken ct = default) => TouchAsync([slotId], ActivityKind.PageView, ct);

    /// <summary>
    /// The slots' apps served requests (app traffic read from Prometheus, <see cref="AppTrafficPoll"/>): activity for their
    /// holds, with the same once-a-minute care as any other sign of use. Returns how many holds it bumped.
    /// </summary>
    public Task<int> OnAppTrafficAsync(IReadOnlyCollection<int> slotIds, CancellationToken ct = default) => TouchAsync(slotIds, ActivityKind.AppTraffic, ct);

    /// <summary>
    /// Bumps the active holds of these slots to now, unless written less than <see cref="TouchGranularity"/> ago
    /// (conditional updates: a concurrent writer costs nothing). Boards hear of holds that stop being idle.
    /// </summary>
    private async Task<int> TouchAsync(IReadOnlyCollection<int> slotIds, ActivityKind kind, CancellationToken ct)
    {
        if (slotIds.Count == 0)
        {
            return 0;
        }

        var ids = slotIds.Distinct().ToList();
        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var idleSince = now - options.CurrentValue.After;
        var wasIdle = await db.Holds.Where(h => ids.Contains(h.SlotId) && h.ReleasedAt == null && h.LastActivityAt <= idleSince).Select(h => h.SlotId).ToListAsync(ct);
        var stale = now - TouchGranularity;
        var touched = await db.Holds.Where(h => ids.Contains(h.SlotId) && h.ReleasedAt == null && h.LastActivityAt <= stale)
            .ExecuteUpdateAsync(s => s.SetProperty(h => h.LastActivityAt, now).SetProperty(h => h.LastActivityKind, kind), ct);
        foreach (var slotId in wasIdle)
        {
            notifier.Publish(new SlotChange(slotId, "active"));
        }

        return touched;
    }

    /// <summary>A deploy is activity, and it wakes a sleeping slot (the other apps come back too).</summary>
    public Task OnDeployAsync(int slotId, CancellationToken ct = default) => UsedAsync(slotId, ActivityKind.Deploy, ct);

    /// <summary>
    /// Someone opened one of the slot's apps (the wake page): activity, and it wakes a sleeping slot. True when this
    /// call woke it; anyone may, as it only restores what was there.
    /// </summary>
    public Task<bool> OnVisitAsync(int slotId, CancellationToken ct = default) => UsedAsync(slotId, ActivityKind.Visit, ct);

    private async Task<bool> UsedAsync(int slotId, ActivityKind kind, CancellationToken ct)
    {
        await TouchAsync([slotId], kind, ct);
        return await WakeCoreAsync(slotId, holdId: null, Actor.System, kind, ct);
    }

    /// <summary>Scales the slot's apps to zero. The holder, QA and Admin may do it; the hold stays.</summary>
    public async Task<Result<HoldView>> SleepAsync(ClaimsPrincipal user, int slotId, long holdId, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!options.CurrentValue.AllowSleep)
        {
            return Fail.Invalid("Sleeping slots is turned off here.");
        }

        if (await CheckAsync(user, slotId, holdId, "sleep", ct) is { } refused)
        {
            return refused;
        }

        if (await OnItsWayAsync(holdId, ct) is { } deploying)
        {
            return Fail.Conflict($"{deploying.Slot} has a deployment on its way ({deploying.App}, {DeploymentStateText(deploying.State)}): put it to sleep once that has finished.");
        }

        var (asleep, hold) = await SleepCoreAsync(holdId, Actor.From(user), idleSince: null, ct);
        if (asleep || hold is { ReleasedAt: null })
        {
            // Already asleep (a double click, or someone else): the same answer, no second job.
            return Result<HoldView>.Ok(HoldView.Of(hold!));
        }

        return Fail.Conflict($"The hold on {hold!.Slot!.Name} has ended.");
    }

    /// <summary>Queued, running or waiting for its image: scaling the slot to zero under it would undo or race it.</summary>
    public static bool OnItsWay(DeploymentState state) => OnItsWayStates.Contains(state);

    private static readonly DeploymentState[] OnItsWayStates = [DeploymentState.Queued, DeploymentState.Running, DeploymentState.WaitingForImage];

    private async Task<(string Slot, string App, DeploymentState State)?> OnItsWayAsync(long holdId, CancellationToken ct)
    {
        await using var db = dbFactory.CreateDbContext();
        var found = await db.Deployments.AsNoTracking()
            .Where(d => d.HoldId == holdId && OnItsWayStates.Contains(d.State))
            .Select(d => new { Slot = d.Slot!.Name, d.App, d.State }).FirstOrDefaultAsync(ct);
        return found is null ? null : (found.Slot, found.App, found.State);
    }

    private static string DeploymentStateText(DeploymentState state) => state switch
    {
        DeploymentState.WaitingForImage => "waiting for its image",
        DeploymentState.Running => "deploying",
        _ => "queued",
    };

    /// <summary>
    /// Puts a hold to sleep on the portal's own initiative (<see cref="IdleSleep"/>): only while it is still held, awake
    /// and unused since <paramref name="idleSince"/>, so activity a moment ago wins. True when this call put it to sleep.
    /// </summary>
    public async Task<bool> SleepIdleAsync(long holdId, DateTime idleSince, CancellationToken ct = default) =>
        options.CurrentValue.AllowSleep && (await SleepCoreAsync(holdId, Actor.System, idleSince, ct)).Asleep;

    /// <summary>Marks the hold asleep (one conditional update), writes the audit, queues the scaling and tells the boards.</summary>
    private async Task<(bool Asleep, Hold? Hold)> SleepCoreAsync(long holdId, Actor actor, DateTime? idleSince, CancellationToken ct)
    {
        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var updated = await db.Holds.Where(h => h.Id == holdId && h.ReleasedAt == null && h.SleepingSince == null && (idleSince == null || h.LastActivityAt <= idleSince))
            .ExecuteUpdateAsync(s => s.SetProperty(h => h.SleepingSince, now), ct);
        var hold = await db.Holds.AsNoTracking().Include(h => h.Slot).FirstOrDefaultAsync(h => h.Id == holdId, ct);
        if (updated == 0 || hold is null)
        {
            return (false, hold);
        }

        var why = idleSince is null ? "" : $" (unused for {TimeText.Duration(now - hold.LastActivityAt)})";
        AuditWriter.Write(db, actor, AuditActions.Sleep, hold.Slot!, $"Apps scaled to zero while {hold.HolderName}'s hold is idle{why}", now);
        await db.SaveChangesAsync(ct);
        jobs.Enqueue<SlotSleepJob>(job => job.SleepAsync(holdId, CancellationToken.None));
        notifier.Publish(new SlotChange(hold.SlotId, "sleep"));
        return (true, hold);
    }

    /// <summary>Brings a sleeping slot's apps back. Anyone who can hold slots may wake one (it only restores what was there).</summary>
    public async Task<Result<bool>> WakeAsync(ClaimsPrincipal user, int slotId, long holdId, CancellationToken ct = default)
    {
        if (await SessionCheck.RefusalAsync(dbFactory, clock, user, ct) is { } sessionEnded)
        {
            return sessionEnded;
        }

        if (!user.Can(Policies.HoldSlots))
        {
            return await refusals.RefuseAsync(user, "Your role cannot wake slots.", ct);
        }

        return Result<bool>.Ok(await WakeCoreAsync(slotId, holdId, Actor.From(user), ActivityKind.Wake, ct));
    }

    private async Task<bool> WakeCoreAsync(int slotId, long? holdId, Actor actor, ActivityKind kind, CancellationToken ct)
    {
        var now = Now;
        await using var db = dbFactory.CreateDbContext();
        var hold = await db.Holds.AsNoTracking().Include(h => h.Slot)
            .FirstOrDefaultAsync(h => h.SlotId == slotId && h.ReleasedAt == null && h.SleepingSince != null && (holdId == null || h.Id == holdId), ct);
        if (hold is null)
        {
            return false;
        }

        var updated = await db.Holds.Where(h => h.Id == hold.Id && h.SleepingSince != null)
            .ExecuteUpdateAsync(s => s.SetProperty(h => h.SleepingSince, (DateTime?)null).SetProperty(h => h.LastActivityAt, now).SetProperty(h => h.LastActivityKind, kind), ct);
        if (updated == 0)
        {
            return false; // woken by someone else a moment ago
        }

        AuditWriter.Write(db, actor, AuditActions.Wake, hold.Slot!, $"Apps of {hold.HolderName}'s hold scaled back up", now);
        await db.SaveChangesAsync(ct);
        jobs.Enqueue<SlotSleepJob>(job => job.WakeAsync(hold.Id, CancellationToken.None));
        notifier.Publish(new SlotChange(slotId, "wake"));
        return true;
    }

    private async Task<Failure?> CheckAsync(ClaimsPrincipal user, int slotId, long holdId, string what, CancellationToken ct)
    {
        if (!user.Can(Policies.HoldSlots))
        {
            return await refusals.RefuseAsync(user, $"Your role cannot {what} slots.", ct);
        }

        await using var db = dbFactory.CreateDbContext();
        var hold = await db.Holds.AsNoTracking().Include(h => h.Slot).FirstOrDefaultAsync(h => h.Id == holdId && h.SlotId == slotId, ct);
        if (hold is null)
        {
            return Fail.NotFound("That hold does not exist.");
        }

        if (hold.ReleasedAt is not null)
        {
            return Fail.Conflict($"The hold on {hold.Slot!.Name} has ended.");
        }

        return hold.HolderId == Actor.From(user).Id || user.Can(Policies.ReleaseAnySlot)
            ? null
            : await refusals.RefuseAsync(user, $"Only {hold.HolderName}, QA or an admin can {what} {hold.Slot!.Name}.", ct);
    }
}
