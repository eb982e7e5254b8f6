using DeployPortal.KubeEmulator;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeployPortal.Web.Tests.Benchmarks;

/// <summary>
/// Elastic slots on the simulated week (<see cref="WaitlistSimulation"/>'s people, needs and portal defaults, the same six
/// fixed slots): how many extra slot-hours buy how much less waiting. Each budget runs the week through the real
/// services on SQLite with the fake clock, as the other rows do, plus the real elastic pool and removal job making and
/// deleting namespaces through KubernetesClient in a Kubernetes API emulator. Kept apart from the six-slot comparison,
/// which is about beating manual booking on the same slots.
/// </summary>
public sealed partial class WaitlistSimulation
{
    private static readonly int[] ElasticBudgetsTried = [0, 1, 2, 4];

    [Fact]
    public async Task Simulate_ElasticSlots_ExtraSlotHoursAgainstWaiting()
    {
        var needs = Needs(Seed, Rate);
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var cluster = await EmulatorServer.StartAsync(new EmulatorOptions());
        using var report = Report("elastic-simulation.md",
            $"{needs.Count} needs from {People} people at {Rate} a day, {SlotCount} fixed slots, {Days} working days, seed {Seed}; portal defaults; "
            + "elastic slots removed 30 min after release",
            "",
            "| elastic budget | median wait | p90 wait | max wait | needs served | total waiting | elastic slots made | most at once | extra slot-hours (all / working) "
            + "| waiting saved per extra slot-hour | idle-held slot-hours | holds past their maximum | double bookings |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        double? noneWaiting = null;
        var runs = new List<(int Budget, Outcome Outcome, ElasticHook Hook)>();
        foreach (var budget in ElasticBudgetsTried)
        {
            var hook = new ElasticHook(cluster.BaseAddress, budget);
            var outcome = await RunAsync(needs, Defaults, hook);
            runs.Add((budget, outcome, hook));
            var waiting = outcome.Waits.Sum(w => w.TotalHours);
            noneWaiting ??= waiting;
            var saved = hook.SlotHours > 0 ? $"{60 * (noneWaiting.Value - waiting) / hook.SlotHours:F0} min" : "–";
            report.Line($"| {budget} | {Minutes(outcome.Quantile(0.5))} | {Minutes(outcome.Quantile(0.9))} | {Minutes(outcome.Quantile(1))} "
                + $"| {outcome.Served} of {outcome.Served + outcome.Unserved} | {waiting:F1} h | {hook.Made} | {hook.Peak} | {hook.SlotHours:F1} / {hook.WorkingSlotHours:F1} "
                + $"| {saved} | {outcome.IdleHours:F1} | {outcome.PastMaximum} | {outcome.DoubleBookings} |");
        }

        report.Line("", $"({started.Elapsed.TotalSeconds:F0} s)");
        Assert.All(runs, r => Assert.Equal((0, 0), (r.Outcome.PastMaximum, r.Outcome.DoubleBookings)));
        Assert.All(runs, r => Assert.InRange(r.Hook.Peak, 0, r.Budget)); // the budget holds, every minute of the week
        Assert.Equal(0, runs[0].Hook.Made);
        Assert.All(runs, r => Assert.Equal(needs.Count, r.Outcome.Served + r.Outcome.Unserved));
    }

    /// <summary>
    /// The elastic pool in one simulated week: turned on with the budget, its removal job run each step, and afterwards the
    /// hours elastic slots existed (from the audit of their making and removal, since a removed slot's row is reused).
    /// </summary>
    private sealed class ElasticHook(Uri cluster, int budget)
    {
        private ElasticReaper? _reaper;

        public Uri Cluster => cluster;
        public int Made { get; private set; }
        public int Peak { get; private set; }
        public double SlotHours { get; private set; }
        public double WorkingSlotHours { get; private set; }

        public void Configure(WaitlistHarness h)
        {
            h.Slots.ElasticOptions.CurrentValue = new ElasticOptions { Enabled = true, MaxSlots = budget, RemoveAfter = TimeSpan.FromMinutes(30) };
            _reaper = h.Slots.ElasticReaper(SlotHarness.Gateway(cluster));
        }

        public async Task StepAsync(WaitlistHarness h)
        {
            await using (var db = h.Database.Factory.CreateDbContext())
            {
                // No teardown job runs here (jobs are recorded): what a release tears down is gone by the next step.
                await db.Slots.Where(s => s.CleaningSince != null)
                    .ExecuteUpdateAsync(x => x.SetProperty(s => s.CleaningSince, (DateTime?)null).SetProperty(s => s.CleaningHoldId, (long?)null));
                Peak = Math.Max(Peak, await db.Slots.CountAsync(s => s.Elastic && s.RemovedAt == null));
            }

            await _reaper!.RunAsync();
        }

        public async Task FinishAsync(WaitlistHarness h, DateTime end)
        {
            await using var db = h.Database.Factory.CreateDbContext();
            var events = await db.AuditEvents.AsNoTracking()
                .Where(a => a.Action == AuditActions.ElasticCreated || a.Action == AuditActions.ElasticRemoved)
                .OrderBy(a => a.Id).Select(a => new { a.SlotId, a.Action, a.At }).ToListAsync();
            Made = events.Count(e => e.Action == AuditActions.ElasticCreated);
            var (all, working) = (TimeSpan.Zero, TimeSpan.Zero);
            foreach (var slot in events.GroupBy(e => e.SlotId))
            {
                DateTime? since = null;
                foreach (var e in slot)
                {
                    if (e.Action == AuditActions.ElasticCreated)
                    {
                        since = e.At;
                    }
                    else if (since is { } from)
                    {
                        (all, working) = (all + (e.At - from), working + WorkingOverlap(from, e.At));
                        since = null;
                    }
                }

                if (since is { } open && end > open)
                {
                    (all, working) = (all + (end - open), working + WorkingOverlap(open, end));
                }
            }

            (SlotHours, WorkingSlotHours) = (all.TotalHours, working.TotalHours);
        }
    }
}
