using System.Globalization;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Insights;

/// <summary>
/// The figures behind the insights page, computed from the holds and deployments the database already keeps
/// (nothing extra is recorded for them). Read-only; every signed-in person (Viewer and up) may see them.
/// </summary>
internal sealed class InsightsService(IDbContextFactory<PortalDb> dbFactory, TimeProvider clock)
{
    /// <summary>Start-to-finish ranges of the deployment duration chart.</summary>
    internal static readonly (string Label, TimeSpan Min, TimeSpan? Max)[] DurationRanges =
    [
        ("< 30 s", TimeSpan.Zero, TimeSpan.FromSeconds(30)),
        ("30 s – 1 min", TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1)),
        ("1 – 2 min", TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2)),
        ("2 – 5 min", TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(5)),
        ("5 – 10 min", TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10)),
        ("≥ 10 min", TimeSpan.FromMinutes(10), null),
    ];

    public async Task<InsightsReport> GetReportAsync(InsightsPeriod period, TimeZoneInfo? zone = null, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var buckets = MakeBuckets(period, now, zone ?? TimeZoneInfo.Utc);
        var from = buckets[0].Start;

        await using var db = dbFactory.CreateDbContext();
        var slots = (await db.Slots.AsNoTracking().Select(s => new SlotRow(s.Id, s.Name, s.Enabled, s.CreatedAt)).ToListAsync(ct)).OrderBy(s => s.Name, NaturalOrder.Instance).ToList();
        var holds = await db.Holds.AsNoTracking()
            .Where(h => h.Since < now && (h.ReleasedAt == null || h.ReleasedAt > from))
            .Select(h => new HoldRow(h.SlotId, h.Since, h.ReleasedAt, h.ReleaseReason, h.QaOutcome))
            .ToListAsync(ct);
        var deployments = await db.Deployments.AsNoTracking()
            .Where(d => d.FinishedAt != null && d.FinishedAt >= from && d.FinishedAt <= now)
            .Select(d => new DeploymentRow(d.State, d.CreatedAt, d.StartedAt, d.FinishedAt!.Value))
            .ToListAsync(ct);

        var utilisation = Utilisation(slots, holds, buckets, now);
        // Slots that were neither enabled nor held in the period are noise on the chart.
        utilisation = [.. utilisation.Where(u => u.Held > TimeSpan.Zero || slots.First(s => s.Id == u.SlotId).Enabled)];
        return new InsightsReport(period, from, now, buckets, utilisation, AllSlotsBusy(slots, holds, from, now),
            HoldOutcomes(holds, buckets, from, now), DeploymentStats(deployments, buckets), await LoadWaitsAsync(db, buckets, ct));
    }

    /// <summary>
    /// Every hold of one slot, newest first, with what was deployed under it and how it ended (including the
    /// QA outcome and note). Pages by hold id: pass the last row's <see cref="SlotHoldHistoryRow.HoldId"/> as
    /// <paramref name="beforeHoldId"/> for the next page.
    /// </summary>
    public async Task<IReadOnlyList<SlotHoldHistoryRow>> GetSlotHistoryAsync(int slotId, int take = 50, long? beforeHoldId = null, CancellationToken ct = default)
    {
        take = Math.Clamp(take, 1, 500);
        await using var db = dbFactory.CreateDbContext();
        var holds = await db.Holds.AsNoTracking()
            .Where(h => h.SlotId == slotId && (beforeHoldId == null || h.Id < beforeHoldId))
            .OrderByDescending(h => h.Id).Take(take).ToListAsync(ct);
        var holdIds = holds.Select(h => (long?)h.Id).ToList();
        var deployments = (await db.Deployments.AsNoTracking().Where(d => holdIds.Contains(d.HoldId))
                .Select(d => new { d.HoldId, Row = new HoldDeploymentRow(d.Id, d.App, d.Branch, d.Commit, d.State, d.CreatedAt, d.FinishedAt) })
                .ToListAsync(ct))
            .ToLookup(d => d.HoldId!.Value, d => d.Row);
        return [.. holds.Select(h => new SlotHoldHistoryRow(h.Id, h.HolderId, h.HolderName, h.Purpose, h.Since, h.Until, h.ReleasedAt, h.ReleaseReason,
            h.ReleasedByName, h.QaOutcome, h.ReleaseNote, [.. deployments[h.Id].OrderBy(d => d.Id)]))];
    }

    /// <summary>
    /// Waits measured from the waitlist's own table: from joining the queue to getting the slot, for the entries
    /// served in the period (people who left the queue are not counted: their wait has no end). Null when nobody was
    /// served, so the page can say so rather than draw zeros.
    /// </summary>
    private static async Task<WaitStats?> LoadWaitsAsync(PortalDb db, IReadOnlyList<InsightsBucket> buckets, CancellationToken ct)
    {
        var (from, to) = (buckets[0].Start, buckets[^1].End);
        var served = await db.Waitlist.AsNoTracking()
            .Where(w => w.State == WaitlistState.Served && w.EndedAt != null && w.EndedAt >= from && w.EndedAt < to)
            .Select(w => new { w.JoinedAt, EndedAt = w.EndedAt!.Value }).ToListAsync(ct);
        if (served.Count == 0)
        {
            return null;
        }

        var waits = served.Select(w => w.EndedAt - w.JoinedAt).ToList();
        var perBucket = buckets.Select(b => Percentile([.. served.Where(w => w.EndedAt >= b.Start && w.EndedAt < b.End).Select(w => w.EndedAt - w.JoinedAt)], 0.5)
            is { } median ? median.TotalMinutes : 0).ToList();
        return new WaitStats(served.Count, Percentile(waits, 0.5), Percentile(waits, 0.9), perBucket);
    }

    /// <summary>
    /// Buckets ending with the one that holds now, their boundaries on the reader's local hours, midnights or
    /// Mondays (so "Tue 3" means their Tuesday), stored in UTC.
    /// </summary>
    internal static IReadOnlyList<InsightsBucket> MakeBuckets(InsightsPeriod period, DateTime now, TimeZoneInfo zone)
    {
        var (count, width) = period.Buckets();
        var local = TimeZoneInfo.ConvertTimeFromUtc(now, zone);
        var last = width == TimeSpan.FromHours(1) ? new DateTime(local.Year, local.Month, local.Day, local.Hour, 0, 0)
            : width == TimeSpan.FromDays(1) ? local.Date
            : local.Date.AddDays(-(((int)local.DayOfWeek + 6) % 7));
        DateTime Step(int n) => width == TimeSpan.FromHours(1) ? last.AddHours(n) : last.AddDays(n * width.TotalDays);
        string Label(DateTime l) => width == TimeSpan.FromHours(1) ? l.ToString("HH:00", CultureInfo.InvariantCulture)
            : width == TimeSpan.FromDays(1) ? l.ToString(count <= 7 ? "ddd d" : "d MMM", CultureInfo.InvariantCulture)
            : l.ToString("d MMM", CultureInfo.InvariantCulture);

        var buckets = new List<InsightsBucket>(count);
        for (var i = count - 1; i >= 0; i--)
        {
            var start = Step(-i);
            buckets.Add(new InsightsBucket(ToUtc(start, zone), ToUtc(Step(-i + 1), zone), Label(start)));
        }

        return buckets;
    }

    private static DateTime ToUtc(DateTime local, TimeZoneInfo zone)
    {
        // A local time skipped by a daylight-saving jump does not exist; the hour after it does.
        var unspecified = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(unspecified))
        {
            unspecified = unspecified.AddMinutes(30);
        }

        return TimeZoneInfo.ConvertTimeToUtc(unspecified, zone);
    }

    private static List<SlotUtilisation> Utilisation(List<SlotRow> slots, List<HoldRow> holds, IReadOnlyList<InsightsBucket> buckets, DateTime now)
    {
        var bySlot = holds.ToLookup(h => h.SlotId);
        var from = buckets[0].Start;
        var period = now - from;
        return [.. slots.Select(slot =>
        {
            var shares = buckets.Select(b =>
            {
                var end = Min(b.End, now);
                var length = end - b.Start;
                if (length <= TimeSpan.Zero)
                {
                    return 0d;
                }

                var held = bySlot[slot.Id].Sum(h => Overlap(h.Since, h.ReleasedAt ?? now, b.Start, end).Ticks);
                return Math.Round(Math.Min(1, held / (double)length.Ticks), 4);
            }).ToList();
            var total = TimeSpan.FromTicks(bySlot[slot.Id].Sum(h => Overlap(h.Since, h.ReleasedAt ?? now, from, now).Ticks));
            return new SlotUtilisation(slot.Id, slot.Name, shares, total, period > TimeSpan.Zero ? Math.Min(1, total / period) : 0);
        })];
    }

    /// <summary>
    /// How long every enabled slot was held at once: the time in which a newcomer could not get a slot
    /// without waiting. (Slots count from when they were added; whether a slot was disabled in the past is not
    /// recorded, so today's enabled slots are used.)
    /// </summary>
    internal static TimeSpan AllSlotsBusy(IReadOnlyList<SlotRow> slots, IReadOnlyList<HoldRow> holds, DateTime from, DateTime now)
    {
        var enabled = slots.Where(s => s.Enabled).ToDictionary(s => s.Id);
        var changes = new List<(DateTime At, int Slots, int Held)>();
        foreach (var slot in enabled.Values)
        {
            changes.Add((Max(slot.CreatedAt, from), 1, 0));
        }

        foreach (var hold in holds.Where(h => enabled.ContainsKey(h.SlotId)))
        {
            var start = Max(hold.Since, from);
            var end = Min(hold.ReleasedAt ?? now, now);
            if (end > start)
            {
                changes.Add((start, 0, 1));
                changes.Add((end, 0, -1));
            }
        }

        var busy = TimeSpan.Zero;
        int slotCount = 0, held = 0;
        var at = from;
        foreach (var change in changes.OrderBy(c => c.At).ThenBy(c => c.Held))
        {
            if (slotCount > 0 && held >= slotCount && change.At > at)
            {
                busy += change.At - at;
            }

            at = Max(at, change.At);
            slotCount += change.Slots;
            held += change.Held;
        }

        if (slotCount > 0 && held >= slotCount && now > at)
        {
            busy += now - at;
        }

        return busy;
    }

    private static HoldOutcomes HoldOutcomes(List<HoldRow> holds, IReadOnlyList<InsightsBucket> buckets, DateTime from, DateTime now)
    {
        var ended = holds.Where(h => h.ReleasedAt is { } at && at >= from && at <= now).ToList();
        int[] PerBucket(ReleaseReason reason) => [.. buckets.Select(b => ended.Count(h => h.ReleaseReason == reason && h.ReleasedAt >= b.Start && h.ReleasedAt < b.End))];
        int Count(ReleaseReason reason) => ended.Count(h => h.ReleaseReason == reason);
        return new HoldOutcomes(
            Count(ReleaseReason.Released), Count(ReleaseReason.QaDone), Count(ReleaseReason.Forced), Count(ReleaseReason.Expired),
            ended.Count(h => h.QaOutcome == QaOutcome.Pass), ended.Count(h => h.QaOutcome == QaOutcome.Fail),
            PerBucket(ReleaseReason.Released), PerBucket(ReleaseReason.QaDone), PerBucket(ReleaseReason.Forced), PerBucket(ReleaseReason.Expired),
            Percentile([.. ended.Select(h => h.ReleasedAt!.Value - h.Since)], 0.5));
    }

    private static DeploymentStats DeploymentStats(List<DeploymentRow> deployments, IReadOnlyList<InsightsBucket> buckets)
    {
        int[] PerBucket(DeploymentState state) => [.. buckets.Select(b => deployments.Count(d => d.State == state && d.FinishedAt >= b.Start && d.FinishedAt < b.End))];
        var ran = deployments.Where(d => d.StartedAt is not null && d.State is DeploymentState.Succeeded or DeploymentState.Failed)
            .Select(d => (d.State, Duration: d.FinishedAt - d.StartedAt!.Value)).ToList();
        var succeeded = ran.Where(r => r.State == DeploymentState.Succeeded).Select(r => r.Duration).ToList();
        var ranges = DurationRanges.Select(r => new DurationRange(r.Label, r.Min, r.Max,
            ran.Count(x => x.State == DeploymentState.Succeeded && x.Duration >= r.Min && (r.Max is null || x.Duration < r.Max)),
            ran.Count(x => x.State == DeploymentState.Failed && x.Duration >= r.Min && (r.Max is null || x.Duration < r.Max)))).ToList();
        return new DeploymentStats(
            deployments.Count(d => d.State == DeploymentState.Succeeded),
            deployments.Count(d => d.State == DeploymentState.Failed),
            deployments.Count(d => d.State == DeploymentState.Cancelled),
            Percentile(succeeded, 0.5), Percentile(succeeded, 0.9),
            Percentile([.. deployments.Where(d => d.StartedAt is not null).Select(d => d.StartedAt!.Value - d.CreatedAt)], 0.5),
            PerBucket(DeploymentState.Succeeded), PerBucket(DeploymentState.Failed), ranges);
    }

    /// <summary>Nearest-rank percentile: the smallest value with at least <paramref name="p"/> of the values at or below it.</summary>
    internal static TimeSpan? Percentile(IReadOnlyList<TimeSpan> values, double p)
    {
        if (values.Count == 0)
        {
            return null;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static TimeSpan Overlap(DateTime start, DateTime end, DateTime from, DateTime to)
    {
        var overlap = Min(end, to) - Max(start, from);
        return overlap > TimeSpan.Zero ? overlap : TimeSpan.Zero;
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    internal sealed record SlotRow(int Id, string Name, bool Enabled, DateTime CreatedAt);

    internal sealed record HoldRow(int SlotId, DateTime Since, DateTime? ReleasedAt, ReleaseReason? ReleaseReason, QaOutcome? QaOutcome);

    private sealed record DeploymentRow(DeploymentState State, DateTime CreatedAt, DateTime? StartedAt, DateTime FinishedAt);
}
