using DeployPortal.Web.Apps;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Insights;

/// <summary>
/// The "waiting and waste" panel: how long people waited for a slot, and what giving back idle holds and sleeping idle
/// slots saved, for the last seven days against the seven before. Computed from what the database keeps already: queue
/// entries (joined → served), holds given back for idleness (<see cref="Hold.GivenBackUntil"/>), and the sleep and wake
/// entries of the audit log. Read-only.
/// </summary>
internal sealed class WasteQueries(IDbContextFactory<PortalDb> dbFactory, AppCatalog apps, TimeProvider clock)
{
    public static readonly TimeSpan Week = TimeSpan.FromDays(7);

    public async Task<WasteReport> GetAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var from = now - 2 * Week;
        await using var db = dbFactory.CreateDbContext();
        var waits = await db.Waitlist.AsNoTracking()
            .Where(w => w.State == WaitlistState.Served && w.EndedAt != null && w.EndedAt >= from && w.EndedAt < now)
            .Select(w => new { w.JoinedAt, EndedAt = w.EndedAt!.Value }).ToListAsync(ct);
        var givenBack = await db.Holds.AsNoTracking()
            .Where(h => h.GivenBackUntil != null && h.Until >= from && h.Until < now)
            .Select(h => new { GivenBackAt = h.Until, PlannedEnd = h.GivenBackUntil!.Value }).ToListAsync(ct);
        var sleeps = await SleepsAsync(db, from, now, ct);

        WasteWeek Of(DateTime start, DateTime end)
        {
            var served = waits.Where(w => w.EndedAt >= start && w.EndedAt < end).Select(w => w.EndedAt - w.JoinedAt).ToList();
            var back = givenBack.Where(h => h.GivenBackAt >= start && h.GivenBackAt < end).ToList();
            return new WasteWeek(start, end, served.Count, InsightsService.Percentile(served, 0.5), InsightsService.Percentile(served, 0.9),
                back.Count, back.Sum(h => Math.Max(0, (h.PlannedEnd - h.GivenBackAt).TotalHours)),
                sleeps.Sum(s => Overlap(s.From, s.To, start, end).TotalHours * s.Replicas));
        }

        return new WasteReport(Of(now - Week, now), Of(from, now - Week));
    }

    /// <summary>
    /// Each time a hold slept: from its sleep entry to the next wake of the slot, the hold's end, or now; with the replicas
    /// its apps had (the apps deployed under the hold, as the catalogue sizes them).
    /// </summary>
    private async Task<List<SleepSpan>> SleepsAsync(PortalDb db, DateTime from, DateTime now, CancellationToken ct)
    {
        var events = await db.AuditEvents.AsNoTracking()
            .Where(a => (a.Action == AuditActions.Sleep || a.Action == AuditActions.Wake) && a.SlotId != null && a.At >= from - Week && a.At < now) // a sleep may have begun before the fortnight
            .OrderBy(a => a.At).ThenBy(a => a.Id).Select(a => new { a.Action, SlotId = a.SlotId!.Value, a.At }).ToListAsync(ct);
        var sleepStarts = events.Where(e => e.Action == AuditActions.Sleep).ToList();
        if (sleepStarts.Count == 0)
        {
            return [];
        }

        var slotIds = sleepStarts.Select(e => e.SlotId).Distinct().ToList();
        var earliest = sleepStarts[0].At;
        var holds = await db.Holds.AsNoTracking().Where(h => slotIds.Contains(h.SlotId) && h.Since <= now && (h.ReleasedAt == null || h.ReleasedAt > earliest))
            .Select(h => new { h.Id, h.SlotId, h.Since, h.ReleasedAt }).ToListAsync(ct);
        var holdIds = holds.Select(h => (long?)h.Id).ToList();
        var deployedApps = (await db.Deployments.AsNoTracking()
                .Where(d => holdIds.Contains(d.HoldId) && d.State == DeploymentState.Succeeded).Select(d => new { HoldId = d.HoldId!.Value, d.App }).ToListAsync(ct))
            .ToLookup(d => d.HoldId, d => d.App);

        var spans = new List<SleepSpan>();
        foreach (var sleep in sleepStarts)
        {
            var hold = holds.FirstOrDefault(h => h.SlotId == sleep.SlotId && h.Since <= sleep.At && (h.ReleasedAt == null || h.ReleasedAt > sleep.At));
            if (hold is null)
            {
                continue;
            }

            var wake = events.FirstOrDefault(e => e.Action == AuditActions.Wake && e.SlotId == sleep.SlotId && e.At >= sleep.At)?.At;
            var end = new[] { wake ?? now, hold.ReleasedAt ?? now, now }.Min();
            var replicas = deployedApps[hold.Id].Distinct().Sum(app => apps.Find(app)?.Replicas ?? 1);
            spans.Add(new SleepSpan(sleep.At, end, replicas));
        }

        return spans;
    }

    private static TimeSpan Overlap(DateTime start, DateTime end, DateTime from, DateTime to)
    {
        var overlap = (end < to ? end : to) - (start > from ? start : from);
        return overlap > TimeSpan.Zero ? overlap : TimeSpan.Zero;
    }

    private sealed record SleepSpan(DateTime From, DateTime To, int Replicas);
}

/// <summary>The last seven days (<see cref="ThisWeek"/>) against the seven before.</summary>
internal sealed record WasteReport(WasteWeek ThisWeek, WasteWeek LastWeek)
{
    /// <summary>Nobody waited, nothing was given back or slept in either week: the panel says so instead of showing zeros.</summary>
    public bool IsEmpty => ThisWeek.IsEmpty && LastWeek.IsEmpty;
}

/// <param name="Served">Queue entries served (their waits are the median and p90; null without any).</param>
/// <param name="GivenBack">Holds given back because they were idle and not kept when asked.</param>
/// <param name="IdleHoursReclaimed">For those holds, the hours between the give-back and the end they had.</param>
/// <param name="PodHoursSaved">Hours asleep × the replicas scaled to zero.</param>
internal sealed record WasteWeek(DateTime From, DateTime To, int Served, TimeSpan? MedianWait, TimeSpan? P90Wait, int GivenBack, double IdleHoursReclaimed, double PodHoursSaved)
{
    public bool IsEmpty => Served == 0 && GivenBack == 0 && PodHoursSaved == 0;
}
