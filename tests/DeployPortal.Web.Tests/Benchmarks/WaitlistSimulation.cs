using System.Security.Claims;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using DeployPortal.Web.Waitlist;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace DeployPortal.Web.Tests.Benchmarks;

/// <summary>
/// A team of 30 and 6 slots over a working week (Monday to Friday, 9:00 to 17:00), driven through the real
/// SlotService, waitlist and expiry job on SQLite with a fake clock, under two policies:
/// <list type="bullet">
/// <item><b>Manual booking</b>: no expiry, no queue. Someone who finds every slot taken looks again every
/// 30 minutes and takes the first free slot they see; from an hour of waiting on, each look also asks around,
/// and a holder who forgot their slot gives it back then. A forgotten hold otherwise stays until its holder's
/// next need.</item>
/// <item><b>Portal defaults</b>: 4 h holds, a reminder 30 min before the end (people still testing extend by
/// 2 h; forgetters ignore it), expiry by the minutely job, and the queue (everyone queues for any slot, so a
/// freed slot is handed over at once). A third run adds the manual policy's asking around to the portal.</item>
/// </list>
/// Both policies see the same people and needs (fixed seed): about 0.8 test needs per person per working day,
/// arriving uniformly between 9:00 and 15:30, each using a slot for a log-normal time (median 1.5 h, capped at
/// 6 h); 30 % of needs end with the slot forgotten rather than released. At 17:00 people go home: those still
/// testing stop (and release or forget as they would), waiters come back at 9:00. Waits count working time only;
/// idle-held slot-hours are working hours a slot was held by someone no longer using it.
/// </summary>
[Trait("Category", "Benchmark")]
public sealed class WaitlistSimulation(ITestOutputHelper output)
{
    private const int People = 30;
    private const int SlotCount = 6;
    private const int Days = 5;
    private const int Seed = 20261130;
    private static readonly DateTime Monday = new(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan DayStart = TimeSpan.FromHours(9), DayEnd = TimeSpan.FromHours(17);

    [Fact]
    public async Task Simulate_ManualBookingVersusPortalDefaults()
    {
        var needs = Needs();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var manual = await RunAsync(needs, portal: false, ask: true);
        var portal = await RunAsync(needs, portal: true, ask: false);
        var portalAsking = await RunAsync(needs, portal: true, ask: true);
        var table = string.Join('\n',
            $"{needs.Count} needs from {People} people, {SlotCount} slots, {Days} working days, seed {Seed} ({started.Elapsed.TotalSeconds:F0} s)",
            "",
            "| policy | median wait | p90 wait | max wait | needs served | idle-held slot-hours | holds expired | forgotten holds given back when asked |",
            "|---|---|---|---|---|---|---|---|",
            manual.Row("manual booking (no expiry, no queue; waiters look every 30 min and ask after 1 h)"),
            portal.Row("portal defaults (4 h holds, reminder, expiry, queue); waiters only queue"),
            portalAsking.Row("portal defaults, and waiters also ask around after 1 h"));
        output.WriteLine(table);
        await File.WriteAllTextAsync(Path.Combine(AppContext.BaseDirectory, "waitlist-simulation.md"), table + "\n");
        Assert.Equal(needs.Count, portal.Served + portal.Unserved);
    }

    private sealed record Need(int Id, int Person, DateTime Arrival, TimeSpan Length, bool Forgets);

    private static List<Need> Needs()
    {
        var random = new Random(Seed);
        var needs = new List<Need>();
        for (var day = 0; day < Days; day++)
        {
            for (var person = 0; person < People; person++)
            {
                var count = Poisson(random, 0.8);
                for (var i = 0; i < count; i++)
                {
                    var arrival = Monday.AddDays(day) + DayStart + TimeSpan.FromMinutes(Math.Floor(random.NextDouble() * 6.5 * 60));
                    var hours = Math.Min(6, Math.Exp(Math.Log(1.5) + 0.6 * Normal(random)));
                    needs.Add(new Need(needs.Count, person, arrival, TimeSpan.FromMinutes(Math.Max(10, Math.Round(hours * 60))), random.NextDouble() < 0.3));
                }
            }
        }

        return [.. needs.OrderBy(n => n.Arrival).ThenBy(n => n.Id)];
    }

    private sealed class Outcome
    {
        public List<TimeSpan> Waits { get; } = [];
        public int Served => Waits.Count;
        public int Unserved { get; set; }
        public double IdleHours { get; set; }
        public int Expired { get; set; }
        public int GivenBackWhenAsked { get; set; }

        public string Row(string policy)
        {
            var sorted = Waits.Order().ToList();
            string At(double q) => sorted.Count == 0 ? "–" : Minutes(sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(q * sorted.Count))]);
            return $"| {policy} | {At(0.5)} | {At(0.9)} | {(sorted.Count == 0 ? "–" : Minutes(sorted[^1]))} | {Served} of {Served + Unserved} | {IdleHours:F1} | {Expired} | {GivenBackWhenAsked} |";
        }

        private static string Minutes(TimeSpan t) => $"{t.TotalMinutes:F0} min";
    }

    /// <summary>A need's life: waiting since (working time counts), then using a hold until it ends, then done.</summary>
    private sealed class Person(Need need)
    {
        public Need Need { get; } = need;
        public TimeSpan Waited { get; set; }
        public DateTime? WaitingSince { get; set; }
        public DateTime? NextLook { get; set; }
        public long? EntryId { get; set; }
        public long? HoldId { get; set; }
        public int SlotId { get; set; }
        public DateTime UseUntil { get; set; }
        public bool Done { get; set; }
    }

    private async Task<Outcome> RunAsync(List<Need> needs, bool portal, bool ask)
    {
        await using var h = await WaitlistHarness.CreateAsync(DatabaseProvider.Sqlite);
        var s = h.Slots;
        s.Clock.SetUtcNow(Monday);
        if (!portal)
        {
            // Manual booking: a hold lasts until it is given back.
            s.Options.CurrentValue = new HoldOptions { DefaultDuration = TimeSpan.FromDays(30), MaxDuration = TimeSpan.FromDays(30), HardMaxTotal = TimeSpan.FromDays(30), RemindBefore = TimeSpan.Zero };
        }

        var slots = new List<Slot>();
        for (var i = 1; i <= SlotCount; i++)
        {
            slots.Add(await s.AddSlotAsync($"qa-{i}"));
        }

        var users = Enumerable.Range(0, People).Select(p => TestUsers.Make($"p{p}", $"Person {p}", "Developer")).ToArray();
        var people = needs.Select(n => new Person(n)).ToList();
        var useEnd = new Dictionary<long, DateTime>(); // hold → when its holder stopped using it
        var forgotten = new Dictionary<long, (int Person, int SlotId)>();
        var outcome = new Outcome();
        var end = Monday.AddDays(Days - 1) + DayEnd;
        var next = 0;

        for (var now = Monday + DayStart; now <= end; now = Step(now))
        {
            s.Clock.SetUtcNow(now);
            var working = IsWorking(now);
            if (working && now.TimeOfDay == DayStart)
            {
                foreach (var p in people.Where(p => p.WaitingSince is not null))
                {
                    p.WaitingSince = now; // back in the morning: waiting again
                    p.NextLook = now;
                    if (portal)
                    {
                        p.EntryId = await JoinAsync(h, users[p.Need.Person], p, people);
                    }
                }
            }

            // Arrivals.
            while (next < people.Count && people[next].Need.Arrival <= now)
            {
                var p = people[next++];
                // A forgotten slot is noticed by its holder at their next need: they give it back.
                foreach (var (holdId, f) in forgotten.Where(f => f.Value.Person == p.Need.Person).ToList())
                {
                    await ReleaseAsync(s, users[f.Person], f.SlotId, holdId);
                    forgotten.Remove(holdId);
                }

                p.WaitingSince = now;
                p.NextLook = now;
                if (portal)
                {
                    p.EntryId = await JoinAsync(h, users[p.Need.Person], p, people);
                }
            }

            if (portal)
            {
                // Someone whose every app already had a waiting entry tries again as soon as one is served.
                foreach (var p in people.Where(p => working && p.WaitingSince <= now && p.EntryId is null && p.HoldId is null))
                {
                    p.EntryId = await JoinAsync(h, users[p.Need.Person], p, people);
                }

                await s.ExpiryJob.RunAsync(default);
                await PickUpServedAsync(h, people, now, outcome);
                // Reminded and still testing: extend by 2 h (refused past the hard maximum: the hold then runs out).
                foreach (var p in people.Where(p => p.HoldId is not null && !p.Done && p.UseUntil > now))
                {
                    var hold = await HoldAsync(h, p.HoldId!.Value);
                    if (hold.ReleasedAt is null && hold.Until - now <= s.Options.CurrentValue.RemindBefore && p.UseUntil > hold.Until)
                    {
                        await s.Service.ExtendAsync(users[p.Need.Person], p.SlotId, hold.Id, TimeSpan.FromHours(2));
                    }
                }
            }
            else if (working)
            {
                await ManualLooksAsync(s, users, people, slots, forgotten, now, outcome);
            }

            if (portal && ask && working)
            {
                // Queued, but also asking around every 30 min once they have waited an hour: the slot given back goes to the head of the queue.
                foreach (var (holdId, _) in forgotten.ToList())
                {
                    if ((await HoldAsync(h, holdId)).ReleasedAt is not null)
                    {
                        forgotten.Remove(holdId); // it expired meanwhile
                    }
                }

                foreach (var p in people.Where(p => p.WaitingSince <= now && p.HoldId is null && p.NextLook <= now))
                {
                    p.NextLook = now.AddMinutes(30);
                    if (p.Waited + (now - p.WaitingSince!.Value) >= TimeSpan.FromHours(1) && forgotten.Count > 0)
                    {
                        var (holdId, f) = forgotten.OrderBy(x => x.Key).First();
                        await ReleaseAsync(s, users[f.Person], f.SlotId, holdId);
                        forgotten.Remove(holdId);
                        outcome.GivenBackWhenAsked++;
                    }
                }
            }

            // 17:00: waiters go home and leave the queue; their wait so far counts.
            if (!working && now.TimeOfDay == DayEnd)
            {
                foreach (var p in people.Where(p => p.WaitingSince is not null))
                {
                    p.Waited += now - p.WaitingSince!.Value;
                    p.WaitingSince = null;
                    if (portal && p.EntryId is { } entryId)
                    {
                        await h.Waitlist.LeaveAsync(users[p.Need.Person], entryId);
                        p.EntryId = null;
                    }
                }

                // People come back tomorrow: keep them marked as waiting from 9:00.
                foreach (var p in people.Where(p => p.HoldId is null && !p.Done && p.Need.Arrival < now && p.Waited > TimeSpan.Zero))
                {
                    p.WaitingSince = now.Date.AddDays(1) + DayStart;
                }
            }

            // Needs that end now (or at 17:00): release, or forget.
            foreach (var p in people.Where(p => p.HoldId is not null && !p.Done && (p.UseUntil <= now || (!working && p.UseUntil > now))))
            {
                p.Done = true;
                useEnd[p.HoldId!.Value] = now;
                var hold = await HoldAsync(h, p.HoldId.Value);
                if (hold.ReleasedAt is not null)
                {
                    continue; // expired while in use
                }

                if (p.Need.Forgets)
                {
                    forgotten[hold.Id] = (p.Need.Person, p.SlotId);
                }
                else
                {
                    await ReleaseAsync(s, users[p.Need.Person], p.SlotId, hold.Id);
                }
            }

        }

        outcome.Unserved = people.Count(p => p.HoldId is null);
        outcome.IdleHours = await IdleWorkingHoursAsync(h, useEnd, end);
        await using (var db = h.Database.Factory.CreateDbContext())
        {
            outcome.Expired = await db.Holds.CountAsync(x => x.ReleaseReason == ReleaseReason.Expired);
        }

        return outcome;
    }

    private static DateTime Step(DateTime now)
    {
        // Minute by minute in working hours; at night the expiry job still runs, every 15 minutes is enough here.
        var next = now.AddMinutes(IsWorking(now) ? 1 : 15);
        return now.TimeOfDay < DayEnd && next.TimeOfDay > DayEnd && next.Date == now.Date ? now.Date + DayEnd : next;
    }

    private static bool IsWorking(DateTime t) => t.TimeOfDay >= DayStart && t.TimeOfDay < DayEnd;

    private static async Task<long?> JoinAsync(WaitlistHarness h, ClaimsPrincipal user, Person p, List<Person> people)
    {
        // One waiting entry per person and app: a second need of the same person waits under the other app.
        foreach (var app in new[] { "storefront", "payments" })
        {
            var joined = await h.Waitlist.JoinAsync(user, new JoinQueueRequest(app, "main", $"need {p.Need.Id}", null));
            // (The same request again is taken as a double click and answered with the entry already waiting.)
            if (joined.Succeeded && !people.Any(other => other != p && other.EntryId == joined.Value!.Id))
            {
                return joined.Value!.Id;
            }
        }

        return null;
    }

    private static async Task PickUpServedAsync(WaitlistHarness h, List<Person> people, DateTime now, Outcome outcome)
    {
        var waiting = people.Where(p => p.EntryId is not null && p.HoldId is null).ToDictionary(p => p.EntryId!.Value);
        if (waiting.Count == 0)
        {
            return;
        }

        await using var db = h.Database.Factory.CreateDbContext();
        var ids = waiting.Keys.ToList();
        var served = await db.Waitlist.AsNoTracking().Where(e => ids.Contains(e.Id) && e.State == WaitlistState.Served)
            .Select(e => new { e.Id, e.HoldId, e.DeploymentId }).ToListAsync();
        foreach (var e in served)
        {
            var hold = await db.Holds.AsNoTracking().SingleAsync(x => x.Id == e.HoldId);
            Start(waiting[e.Id], hold, now, outcome);
        }
    }

    private static void Start(Person p, Hold hold, DateTime now, Outcome outcome)
    {
        p.Waited += now - p.WaitingSince!.Value;
        p.WaitingSince = null;
        p.HoldId = hold.Id;
        p.SlotId = hold.SlotId;
        p.UseUntil = now + p.Need.Length;
        outcome.Waits.Add(p.Waited);
    }

    private static async Task ManualLooksAsync(SlotHarness s, ClaimsPrincipal[] users, List<Person> people, List<Slot> slots,
        Dictionary<long, (int Person, int SlotId)> forgotten, DateTime now, Outcome outcome)
    {
        foreach (var p in people.Where(p => p.WaitingSince is not null && p.NextLook <= now).OrderBy(p => p.NextLook).ThenBy(p => p.Need.Id))
        {
            p.NextLook = now.AddMinutes(30);
            // Waited an hour or more: ask around; someone who forgot their slot gives it back.
            if (p.Waited + (now - p.WaitingSince!.Value) >= TimeSpan.FromHours(1) && forgotten.Count > 0)
            {
                var (holdId, f) = forgotten.OrderBy(x => x.Key).First();
                await ReleaseAsync(s, users[f.Person], f.SlotId, holdId);
                forgotten.Remove(holdId);
                outcome.GivenBackWhenAsked++;
            }

            foreach (var slot in slots)
            {
                var claim = await s.Service.ClaimAsync(users[p.Need.Person], new ClaimRequest(slot.Id, $"need {p.Need.Id}", null));
                // Claiming a slot one already holds answers with that hold (a double click): not a slot for this need.
                if (claim.Succeeded && !people.Any(other => other.HoldId == claim.Value!.Id))
                {
                    Start(p, (await s.HoldsAsync(slot.Id)).Single(x => x.Id == claim.Value!.Id), now, outcome);
                    break;
                }
            }
        }
    }

    private static async Task ReleaseAsync(SlotHarness s, ClaimsPrincipal user, int slotId, long holdId)
    {
        await s.Service.ReleaseAsync(user, new ReleaseRequest(slotId, holdId));
    }

    private static async Task<Hold> HoldAsync(WaitlistHarness h, long id)
    {
        await using var db = h.Database.Factory.CreateDbContext();
        return await db.Holds.AsNoTracking().SingleAsync(x => x.Id == id);
    }

    /// <summary>Working hours each slot spent held by someone who had stopped using it.</summary>
    private static async Task<double> IdleWorkingHoursAsync(WaitlistHarness h, Dictionary<long, DateTime> useEnd, DateTime end)
    {
        await using var db = h.Database.Factory.CreateDbContext();
        var holds = await db.Holds.AsNoTracking().ToListAsync();
        var idle = TimeSpan.Zero;
        foreach (var hold in holds)
        {
            var from = useEnd.TryGetValue(hold.Id, out var stopped) ? stopped : end; // a hold nobody started using (served at night) counts from its claim
            if (!useEnd.ContainsKey(hold.Id))
            {
                from = hold.Since;
            }

            var to = hold.ReleasedAt ?? end;
            idle += WorkingOverlap(from, to < end ? to : end);
        }

        return idle.TotalHours;
    }

    private static TimeSpan WorkingOverlap(DateTime from, DateTime to)
    {
        var total = TimeSpan.Zero;
        for (var day = from.Date; day <= to.Date; day = day.AddDays(1))
        {
            var a = Max(from, day + DayStart);
            var b = Min(to, day + DayEnd);
            if (b > a)
            {
                total += b - a;
            }
        }

        return total;
    }

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;
    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static int Poisson(Random random, double lambda)
    {
        var l = Math.Exp(-lambda);
        var k = 0;
        var p = 1.0;
        do
        {
            k++;
            p *= random.NextDouble();
        }
        while (p > l);
        return k - 1;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
