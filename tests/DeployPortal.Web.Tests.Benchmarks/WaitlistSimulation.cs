using System.Security.Claims;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using DeployPortal.Web.Waitlist;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace DeployPortal.Web.Tests.Benchmarks;

/// <summary>
/// A team of 30 and 6 slots over a working week (Monday to Friday, 9:00 to 17:00), driven through the real
/// holder actions, waitlist, expiry job and idle give-back job on SQLite with a fake clock, under several policies:
/// <list type="bullet">
/// <item><b>Manual booking</b>: no expiry, no queue. Someone who finds every slot taken looks again every
/// 30 minutes and takes the first free slot they see; from an hour of waiting on, each look also asks around,
/// and a holder who forgot their slot gives it back then. A forgotten hold otherwise stays until its holder's
/// next need.</item>
/// <item><b>Portal</b> rows: 4 h holds, a reminder 30 min before the end (people still testing extend by 2 h;
/// forgetters ignore it), expiry by the minutely job, and the queue (everyone queues for any slot, so a freed slot
/// is handed over at once); then, row by row, giving idle holds back (<see cref="IdleGiveBack"/>) with the settings
/// shown.</item>
/// </list>
/// Every policy sees the same people and needs (fixed seed): about 0.8 test needs per person per working day,
/// arriving uniformly between 9:00 and 15:30, each using a slot for a log-normal time (median 1.5 h, capped at
/// 6 h); 30 % of needs end with the slot forgotten rather than released. At 17:00 people go home: those still
/// testing stop (and release or forget as they would), waiters come back at 9:00. Waits count working time only;
/// idle-held slot-hours are working hours a slot was held by someone no longer using it; idle pod-hours are all
/// hours (the cluster runs at night too) during which a hold's apps ran while nobody used them (every hold is
/// deployed when it starts and torn down when it ends).
/// <para>
/// Activity: someone testing opens the slot's page or logs, or deploys, at random (exponential gaps, mean 30 min); a
/// forgetter does nothing. Someone testing also sends requests to the app (exponential gaps, mean
/// <see cref="TrafficGap"/>); in rows "+ app traffic" the portal reads them as Prometheus would give them, through
/// <see cref="IdleSlots.OnAppTrafficAsync"/>, the method the poller calls (requests in the last two minutes, every minute).
/// Asked "keep it?", someone still testing answers after an exponential delay (mean 5 min); one who answers after the
/// deadline loses the slot mid-test (counted). With sleep on (<see cref="IdleSleep"/>), a request to a sleeping app
/// wakes it (<see cref="IdleSlots.OnVisitAsync"/>, as the wake page does; counted as a nap during a test), and idle
/// pod-hours leave out the hours a hold slept.
/// </para>
/// </summary>
[Trait("Category", "Benchmark")]
public sealed partial class WaitlistSimulation(ITestOutputHelper output)
{
    private const int People = 30;
    private const int SlotCount = 6;
    private const int Days = 5;
    private const int Seed = 20261130;
    private const double Rate = 0.8;
    private static readonly DateTime Monday = new(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan DayStart = TimeSpan.FromHours(9), DayEnd = TimeSpan.FromHours(17);
    private static readonly TimeSpan ActivityGap = TimeSpan.FromMinutes(30), AnswerDelay = TimeSpan.FromMinutes(5);

    /// <summary>Mean gap between requests to the app while someone tests it (clicks come in bursts with pauses to read, fix and rebuild).</summary>
    private static readonly TimeSpan TrafficGap = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A policy row: the manual one, or the portal with give-back off (<paramref name="Idle"/> with no ReleaseAfter) or on,
    /// sleep on or off (<see cref="IdleOptions.SleepAfter"/>), and app traffic read as activity or not.
    /// </summary>
    private sealed record Policy(string Name, bool Portal, IdleOptions Idle, bool AppTraffic = false);

    private static IdleOptions GiveBackOff => new() { ReleaseAfter = null, SleepAfter = null };

    private static Policy Manual => new("manual booking (no expiry, no queue; waiters look every 30 min and ask after 1 h)", false, GiveBackOff);

    private static Policy Defaults => new($"**portal defaults**: {Describe(new IdleOptions())}; portal activity only", true, new IdleOptions());

    /// <summary>The defaults as a portal with <c>Activity:Prometheus:Url</c> set has them: <see cref="IdleOptions.WithAppTraffic"/> in force.</summary>
    private static Policy DefaultsWithTraffic => new($"**portal defaults + app traffic**: {Describe(new IdleOptions { AppTrafficRead = true })}; requests to the app count as activity",
        true, new IdleOptions { AppTrafficRead = true }, AppTraffic: true);

    private static string Describe(IdleOptions o) => o.GiveBack is not { } g ? "no giving back" :
        $"give back after {g.ReleaseAfter.TotalMinutes:F0} min idle ({g.AnswerWithin.TotalMinutes:F0} min to answer); "
        + (g.AskWhenQueuedAfter >= g.ReleaseAfter ? "no faster question when someone waits" : $"someone waiting: after {g.AskWhenQueuedAfter.TotalMinutes:F0} min ({g.AnswerWithinWhenQueued.TotalMinutes:F0} min to answer)")
        + (o.SleepAfter is { } sleep ? $"; sleep after {sleep.TotalMinutes:F0} min idle" : "; no sleep");

    /// <summary>A row with its own give-back times; with app traffic they are set as <see cref="IdleOptions.WithAppTraffic"/>, as a portal reading Prometheus would use them.</summary>
    private static Policy GiveBack(TimeSpan releaseAfter, TimeSpan answer, TimeSpan askQueued, TimeSpan answerQueued, bool sleep = true, bool traffic = false)
    {
        var idle = new IdleOptions { ReleaseAfter = releaseAfter, AnswerWithin = answer, AskWhenQueuedAfter = askQueued, AnswerWithinWhenQueued = answerQueued, SleepAfter = sleep ? Min(30) : null };
        if (traffic)
        {
            (idle.AppTrafficRead, idle.WithAppTraffic) = (true, new() { ReleaseAfter = releaseAfter, AnswerWithin = answer, AskWhenQueuedAfter = askQueued, AnswerWithinWhenQueued = answerQueued });
        }

        return new($"portal, {Describe(idle)}" + (traffic ? " + app traffic" : ""), true, idle, traffic);
    }

    private static TimeSpan Min(double minutes) => TimeSpan.FromMinutes(minutes);

    [Fact]
    public async Task Simulate_ManualBookingVersusPortalPolicies()
    {
        var needs = Needs(Seed, Rate);
        var started = System.Diagnostics.Stopwatch.StartNew();
        Policy[] policies =
        [
            Manual,
            new("portal before giving back (4 h holds, reminder, expiry, queue; no sleep)", true, GiveBackOff),
            GiveBack(Min(30), Min(15), Min(30), Min(15), sleep: false),
            GiveBack(Min(30), Min(15), Min(15), Min(10), sleep: false),
            Defaults,
            DefaultsWithTraffic,
            // Other settings tried when choosing the defaults; the first is what app traffic had before Idle:WithAppTraffic.
            GiveBack(Min(30), Min(15), Min(15), Min(10), traffic: true),
            GiveBack(Min(45), Min(15), Min(15), Min(10)),
            GiveBack(Min(60), Min(30), Min(10), Min(5)),
            GiveBack(Min(30), Min(15), Min(10), Min(5), traffic: true),
            GiveBack(Min(20), Min(10), Min(15), Min(5), traffic: true),
            GiveBack(Min(20), Min(10), Min(12), Min(6), traffic: true),
            GiveBack(Min(20), Min(10), Min(7), Min(8), traffic: true),
            GiveBack(Min(20), Min(10), Min(5), Min(10), traffic: true),
            GiveBack(Min(15), Min(10), Min(10), Min(5), traffic: true),
        ];
        if (TriedRows() is { } tried)
        {
            policies = [Manual, .. tried];
        }

        using var report = Report("waitlist-simulation.md",
            $"{needs.Count} needs from {People} people at {Rate} a day, {SlotCount} slots, {Days} working days, seed {Seed}",
            "",
            "| policy | median wait | p90 wait | max wait | needs served | idle-held slot-hours | idle pod-hours | questions to people still testing | slots lost mid-test | naps during a test | holds past their maximum | double bookings |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|");
        var outcomes = new List<Outcome>();
        foreach (var policy in policies)
        {
            var outcome = await RunAsync(needs, policy);
            outcomes.Add(outcome);
            report.Line(outcome.Row(policy.Name, outcomes.Count == 1 ? null : outcomes[0]));
        }

        report.Line("", $"({started.Elapsed.TotalSeconds:F0} s)");
        Assert.All(outcomes, o => Assert.Equal((0, 0), (o.PastMaximum, o.DoubleBookings)));
        Assert.All(outcomes, o => Assert.Equal(needs.Count, o.Served + o.Unserved));
    }

    /// <summary>Not tuned to one trace: other seeds and arrival rates, manual booking against the defaults on the same needs.</summary>
    [Fact]
    public async Task Simulate_DefaultsAgainstManualBooking_OverSeedsAndArrivalRates()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var tried = TriedRows() ?? [];
        using var report = Report("waitlist-sensitivity.md",
            "Portal defaults against manual booking on the same needs (percentages are of manual).",
            "",
            "| needs per person per day | seed | needs | manual median / p90 wait | defaults median / p90 wait | median | p90 | idle-held slot-hours | idle pod-hours | holds past maximum, double bookings | questions, lost mid-test | + app traffic: median, p90, idle-held, idle pods; questions, lost mid-test |"
            + string.Concat(tried.Select(r => $" {r.Name}: median, p90, idle-held, idle pods; questions, lost mid-test |")),
            "|---|---|---|---|---|---|---|---|---|---|---|---|" + string.Concat(tried.Select(_ => "---|")));
        foreach (var rate in FromEnvironment("DEPLOYPORTAL_SIM_RATES", [0.6, 0.8, 1.2]))
        {
            foreach (var seed in FromEnvironment("DEPLOYPORTAL_SIM_SEEDS", [1, 2, 3, 4, 5]).Select(s => (int)s))
            {
                var trace = Needs(seed, rate);
                var m = await RunAsync(trace, Manual);
                var d = await RunAsync(trace, Defaults);
                var t = await RunAsync(trace, DefaultsWithTraffic);
                var extra = new List<string>();
                foreach (var row in tried)
                {
                    extra.Add(Compact(await RunAsync(trace, row), m));
                }

                report.Line($"| {rate} | {seed} | {trace.Count} | {Minutes(m.Quantile(0.5))} / {Minutes(m.Quantile(0.9))} | {Minutes(d.Quantile(0.5))} / {Minutes(d.Quantile(0.9))} "
                    + $"| {Percent(d.Quantile(0.5).TotalMinutes, m.Quantile(0.5).TotalMinutes)} | {Percent(d.Quantile(0.9).TotalMinutes, m.Quantile(0.9).TotalMinutes)} "
                    + $"| {Percent(d.IdleHours, m.IdleHours)} | {Percent(d.IdlePodHours, m.IdlePodHours)} | {d.PastMaximum}, {d.DoubleBookings} "
                    + $"| {d.AskedWhileTesting}, {d.LostMidTest} |" + Compact(t, m)
                    + string.Concat(extra));
                Assert.Equal((0, 0), (d.PastMaximum, d.DoubleBookings));
                Assert.Equal((0, 0), (t.PastMaximum, t.DoubleBookings));
            }
        }

        report.Line("", $"({started.Elapsed.TotalSeconds:F0} s)");
    }

    /// <summary>
    /// For trying settings without editing the test: <c>DEPLOYPORTAL_SIM_ROWS</c> replaces the main table's portal rows with
    /// rows of <c>releaseAfter/answerWithin/askWhenQueuedAfter/answerWithinWhenQueued</c> in minutes, <c>+t</c> for app
    /// traffic, separated by <c>;</c> (e.g. <c>30/15/10/5+t;30/15/10/10+t</c>).
    /// </summary>
    private static List<Policy>? TriedRows() =>
        Environment.GetEnvironmentVariable("DEPLOYPORTAL_SIM_ROWS") is { Length: > 0 } rows
            ? [.. rows.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(row =>
            {
                var traffic = row.EndsWith("+t", StringComparison.Ordinal);
                var m = row.TrimEnd('+', 't').Split('/').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                return GiveBack(Min(m[0]), Min(m[1]), Min(m[2]), Min(m[3]), traffic: traffic);
            })]
            : null;

    private static string Compact(Outcome o, Outcome m) =>
        $" {Percent(o.Quantile(0.5).TotalMinutes, m.Quantile(0.5).TotalMinutes)}, {Percent(o.Quantile(0.9).TotalMinutes, m.Quantile(0.9).TotalMinutes)}, "
        + $"{Percent(o.IdleHours, m.IdleHours)}, {Percent(o.IdlePodHours, m.IdlePodHours)}; {o.AskedWhileTesting}, {o.LostMidTest} |";

    /// <summary>The sensitivity table's rates or seeds, fewer for a quick look (<c>DEPLOYPORTAL_SIM_RATES=0.8</c>, <c>DEPLOYPORTAL_SIM_SEEDS=1,2</c>).</summary>
    private static double[] FromEnvironment(string name, double[] all) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } list
            ? [.. list.Split(',', StringSplitOptions.TrimEntries).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture))]
            : all;

    /// <summary>A table written line by line to the test output and to a file next to the binaries (readable while the run goes on).</summary>
    private Lines Report(string file, params string[] head)
    {
        var lines = new Lines(output, Path.Combine(AppContext.BaseDirectory, file));
        lines.Line(head);
        return lines;
    }

    private sealed class Lines(ITestOutputHelper output, string path) : IDisposable
    {
        private readonly StreamWriter _file = new(path) { AutoFlush = true };

        public void Line(params string[] lines)
        {
            foreach (var line in lines)
            {
                output.WriteLine(line);
                _file.WriteLine(line);
            }
        }

        public void Dispose() => _file.Dispose();
    }

    private sealed record Need(int Id, int Person, DateTime Arrival, TimeSpan Length, bool Forgets, TimeSpan[] Activity, TimeSpan Answer)
    {
        /// <summary>Requests to the app while testing, as offsets from the start of use (drawn apart, so the needs themselves stay as before).</summary>
        public TimeSpan[] Traffic { get; init; } = [];
    }

    private static List<Need> Needs(int seed, double rate)
    {
        var random = new Random(seed == Seed ? Seed : seed * 7919 + (int)(rate * 1000));
        var needs = new List<Need>();
        for (var day = 0; day < Days; day++)
        {
            for (var person = 0; person < People; person++)
            {
                var count = Poisson(random, rate);
                for (var i = 0; i < count; i++)
                {
                    var arrival = Monday.AddDays(day) + DayStart + TimeSpan.FromMinutes(Math.Floor(random.NextDouble() * 6.5 * 60));
                    var hours = Math.Min(6, Math.Exp(Math.Log(1.5) + 0.6 * Normal(random)));
                    var length = TimeSpan.FromMinutes(Math.Max(10, Math.Round(hours * 60)));
                    var forgets = random.NextDouble() < 0.3;
                    // Signs of use while testing, as offsets from the start of use, and how long a question takes to answer.
                    var activity = new List<TimeSpan>();
                    for (var at = Exponential(random, ActivityGap); at < length; at += Exponential(random, ActivityGap))
                    {
                        activity.Add(at);
                    }

                    var requests = new Random(seed * 31 + needs.Count);
                    var traffic = new List<TimeSpan>();
                    for (var at = Exponential(requests, TrafficGap); at < length; at += Exponential(requests, TrafficGap))
                    {
                        traffic.Add(at);
                    }

                    needs.Add(new Need(needs.Count, person, arrival, length, forgets, [.. activity], Exponential(random, AnswerDelay)) { Traffic = [.. traffic] });
                }
            }
        }

        return [.. needs.OrderBy(n => n.Arrival).ThenBy(n => n.Id)];
    }

    private static TimeSpan Exponential(Random random, TimeSpan mean) =>
        TimeSpan.FromMinutes(Math.Max(1, Math.Round(-Math.Log(1 - random.NextDouble()) * mean.TotalMinutes)));

    private sealed class Outcome
    {
        public List<TimeSpan> Waits { get; } = [];
        public int Served => Waits.Count;
        public int Unserved { get; set; }
        public double IdleHours { get; set; }
        public double IdlePodHours { get; set; }
        public int AskedWhileTesting { get; set; }
        public int LostMidTest { get; set; }
        public int Naps { get; set; }
        public int PastMaximum { get; set; }
        public int DoubleBookings { get; set; }

        public TimeSpan Quantile(double q)
        {
            var sorted = Waits.Order().ToList();
            return sorted.Count == 0 ? TimeSpan.Zero : sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(q * sorted.Count))];
        }

        public string Row(string policy, Outcome? manual)
        {
            string Of(double value, double manualValue) => manual is null ? "" : $" ({Percent(value, manualValue)})";
            var (median, p90) = (Quantile(0.5), Quantile(0.9));
            return $"| {policy} | {Minutes(median)}{Of(median.TotalMinutes, manual?.Quantile(0.5).TotalMinutes ?? 0)} "
                + $"| {Minutes(p90)}{Of(p90.TotalMinutes, manual?.Quantile(0.9).TotalMinutes ?? 0)} | {Minutes(Quantile(1))} | {Served} of {Served + Unserved} "
                + $"| {IdleHours:F1}{Of(IdleHours, manual?.IdleHours ?? 0)} | {IdlePodHours:F1}{Of(IdlePodHours, manual?.IdlePodHours ?? 0)} "
                + $"| {AskedWhileTesting} | {LostMidTest} | {Naps} | {PastMaximum} | {DoubleBookings} |";
        }
    }

    private static string Minutes(TimeSpan t) => $"{t.TotalMinutes:F0} min";

    private static string Percent(double value, double manual) => manual <= 0 ? (value <= 0 ? "= manual" : "–") : $"{100 * value / manual:F0} %";

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
        public DateTime UseFrom { get; set; }
        public DateTime UseUntil { get; set; }
        public int NextActivity { get; set; }
        public int NextRequest { get; set; }
        public DateTime? AnswerAt { get; set; }
        public bool Done { get; set; }
    }

    private async Task<Outcome> RunAsync(List<Need> needs, Policy policy, ElasticHook? elastic = null) // elastic: ElasticSimulation.cs
    {
        var portal = policy.Portal;
        await using var h = await WaitlistHarness.CreateAsync(DatabaseProvider.Sqlite, elastic?.Cluster);
        elastic?.Configure(h);
        var s = h.Slots;
        s.Clock.SetUtcNow(Monday);
        s.IdleOptions.CurrentValue = policy.Idle;
        var sleep = new IdleSleep(h.Database.Factory, s.Idle, s.Clock, s.IdleOptions, NullLogger<IdleSleep>.Instance);
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

                // People testing use the slot (the portal sees page and log views, deploys) and answer its questions.
                var asked = await ActiveHoldsAsync(h);
                foreach (var p in people.Where(p => p.HoldId is not null && !p.Done && p.UseUntil > now))
                {
                    if (p.NextActivity < p.Need.Activity.Length && p.UseFrom + p.Need.Activity[p.NextActivity] <= now)
                    {
                        p.NextActivity++;
                        await s.Idle.TouchAsync(p.SlotId);
                    }

                    if (asked.GetValueOrDefault(p.HoldId!.Value) is { KeepDeadline: not null } hold)
                    {
                        if (p.AnswerAt is null)
                        {
                            p.AnswerAt = now + p.Need.Answer;
                            outcome.AskedWhileTesting++;
                        }

                        if (p.AnswerAt <= now)
                        {
                            await s.GiveBack.KeepAsync(users[p.Need.Person], p.SlotId, hold.Id);
                            p.AnswerAt = null;
                        }
                    }
                    else
                    {
                        p.AnswerAt = null;
                    }
                }

                await AppTrafficAsync(s, people, policy, asked, now, outcome);
                await DeploymentsFinishAsync(h);
                await s.GiveBack.RunAsync();
                await s.ExpiryJob.RunAsync(default);
                await sleep.RunAsync();
                await (elastic?.StepAsync(h) ?? Task.CompletedTask);
                await PickUpServedAsync(h, people, now, outcome);
                // Reminded and still testing: extend by 2 h (refused past the hard maximum: the hold then runs out).
                var active = await ActiveHoldsAsync(h);
                foreach (var p in people.Where(p => p.HoldId is not null && !p.Done && p.UseUntil > now))
                {
                    if (active.GetValueOrDefault(p.HoldId!.Value) is { } hold && hold.Until - now <= s.Options.CurrentValue.RemindBefore && p.UseUntil > hold.Until)
                    {
                        await s.Actions.ExtendAsync(users[p.Need.Person], p.SlotId, hold.Id, TimeSpan.FromHours(2));
                    }
                }
            }
            else if (working)
            {
                await ManualLooksAsync(s, users, people, slots, forgotten, now, outcome);
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
            var current = await ActiveHoldsAsync(h);
            foreach (var p in people.Where(p => p.HoldId is not null && !p.Done && (p.UseUntil <= now || (!working && p.UseUntil > now))))
            {
                p.Done = true;
                useEnd[p.HoldId!.Value] = now;
                if (current.GetValueOrDefault(p.HoldId.Value) is not { } hold)
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

            // A hold given back while its holder was still testing (the answer came too late).
            foreach (var p in people.Where(p => p.HoldId is not null && !p.Done && p.UseUntil > now && p.AnswerAt is not null))
            {
                if (!current.ContainsKey(p.HoldId!.Value))
                {
                    p.Done = true;
                    useEnd[p.HoldId.Value] = now;
                    outcome.LostMidTest++;
                }
            }

            if (forgotten.Count > 0 && portal)
            {
                foreach (var (holdId, _) in forgotten.ToList())
                {
                    if (!current.ContainsKey(holdId))
                    {
                        forgotten.Remove(holdId); // expired or given back meanwhile
                    }
                }
            }
        }

        outcome.Unserved = people.Count(p => p.HoldId is null);
        await (elastic?.FinishAsync(h, end) ?? Task.CompletedTask);
        await using (var db = h.Database.Factory.CreateDbContext())
        {
            var holds = await db.Holds.AsNoTracking().ToListAsync();
            var sleeps = await db.AuditEvents.AsNoTracking().Where(a => a.Action == Web.Audit.AuditActions.Sleep || a.Action == Web.Audit.AuditActions.Wake)
                .OrderBy(a => a.Id).Select(a => new { a.Action, SlotId = a.SlotId!.Value, a.At }).ToListAsync();
            // A sleep lasts until the slot's next entry (its wake, or a later hold's sleep); IdleHours clips it to its hold.
            var asleep = sleeps.Select((a, i) => (a, i)).Where(x => x.a.Action == Web.Audit.AuditActions.Sleep)
                .Select(x => (x.a.SlotId, From: x.a.At, To: sleeps.Skip(x.i + 1).FirstOrDefault(w => w.SlotId == x.a.SlotId)?.At ?? end))
                .ToList();
            (outcome.IdleHours, outcome.IdlePodHours) = IdleHours(holds, useEnd, asleep, end);
            var hardMax = s.Options.CurrentValue.HardMaxTotal;
            outcome.PastMaximum = holds.Count(x => (x.ReleasedAt ?? end) - x.Since > hardMax || x.Until - x.Since > hardMax);
            outcome.DoubleBookings = holds.GroupBy(x => x.SlotId)
                .Sum(g => g.OrderBy(x => x.Since).Zip(g.OrderBy(x => x.Since).Skip(1)).Count(pair => (pair.First.ReleasedAt ?? DateTime.MaxValue) > pair.Second.Since));
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
        p.UseFrom = now;
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
            }

            foreach (var slot in slots)
            {
                var claim = await s.Actions.ClaimAsync(users[p.Need.Person], new ClaimRequest(slot.Id, $"need {p.Need.Id}", null));
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
        await s.Actions.ReleaseAsync(user, new ReleaseRequest(slotId, holdId));
    }

    /// <summary>
    /// No pipeline runs here: deployments (from the queue's hand-overs) succeed at the next step, as a quick deploy would.
    /// Left queued, they would also block handing the same slot to the same person again (one queued twin per slot).
    /// </summary>
    private static async Task DeploymentsFinishAsync(WaitlistHarness h)
    {
        await using var db = h.Database.Factory.CreateDbContext();
        await db.Deployments.Where(d => d.State == DeploymentState.Queued).ExecuteUpdateAsync(x => x.SetProperty(d => d.State, DeploymentState.Succeeded));
    }

    /// <summary>The holds not released yet, by id: one read per step instead of one per person.</summary>
    private static async Task<Dictionary<long, Hold>> ActiveHoldsAsync(WaitlistHarness h)
    {
        await using var db = h.Database.Factory.CreateDbContext();
        return await db.Holds.AsNoTracking().Where(x => x.ReleasedAt == null).ToDictionaryAsync(x => x.Id);
    }

    /// <summary>
    /// Working hours each slot spent held by someone who had stopped using it, and all hours its apps ran meanwhile
    /// (not the hours it slept). A hold nobody started using (served at night, then given back) counts from its claim.
    /// </summary>
    private static (double Held, double Pods) IdleHours(List<Hold> holds, Dictionary<long, DateTime> useEnd, List<(int SlotId, DateTime From, DateTime To)> asleep, DateTime end)
    {
        var (held, pods) = (TimeSpan.Zero, TimeSpan.Zero);
        foreach (var hold in holds)
        {
            var from = useEnd.TryGetValue(hold.Id, out var stopped) ? stopped : hold.Since;
            var to = Min(hold.ReleasedAt ?? end, end);
            held += WorkingOverlap(from, to);
            if (to > from)
            {
                pods += to - from;
                foreach (var nap in asleep.Where(a => a.SlotId == hold.SlotId && a.From >= hold.Since && a.From < (hold.ReleasedAt ?? end)))
                {
                    var (a, b) = (Max(nap.From, from), Min(nap.To, to));
                    pods -= b > a ? b - a : TimeSpan.Zero;
                }
            }
        }

        return (held.TotalHours, pods.TotalHours);
    }

    /// <summary>
    /// Requests from people testing: in "+ app traffic" rows the slots with requests in the last two minutes are reported
    /// as the poller would (<see cref="IdleSlots.OnAppTrafficAsync"/>); a request to a sleeping app wakes it, as the wake page does.
    /// </summary>
    private static async Task AppTrafficAsync(SlotHarness s, List<Person> people, Policy policy, Dictionary<long, Hold> active, DateTime now, Outcome outcome)
    {
        var busy = new List<int>();
        foreach (var p in people.Where(p => p.HoldId is not null && !p.Done && p.UseUntil > now))
        {
            var requested = false;
            while (p.NextRequest < p.Need.Traffic.Length && p.UseFrom + p.Need.Traffic[p.NextRequest] <= now)
            {
                p.NextRequest++;
                requested = true;
            }

            if (policy.AppTraffic && (requested || (p.NextRequest > 0 && p.UseFrom + p.Need.Traffic[p.NextRequest - 1] > now.AddMinutes(-2))))
            {
                busy.Add(p.SlotId);
            }

            // Only a sleeping app's requests reach the portal (its wake page); an awake app's go to the app.
            if (requested && active.GetValueOrDefault(p.HoldId!.Value) is { SleepingSince: not null } && await s.Idle.OnVisitAsync(p.SlotId))
            {
                outcome.Naps++;
            }
        }

        if (busy.Count > 0)
        {
            await s.Idle.OnAppTrafficAsync(busy);
        }
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
