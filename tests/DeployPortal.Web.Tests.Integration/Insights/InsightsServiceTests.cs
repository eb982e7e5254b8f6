using DeployPortal.Web.Data;
using DeployPortal.Web.Insights;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace DeployPortal.Web.Tests.Insights;

public sealed class SqliteInsightsServiceTests() : InsightsServiceTests(DatabaseProvider.Sqlite);

public sealed class PostgresInsightsServiceTests() : InsightsServiceTests(DatabaseProvider.Postgres);

/// <summary>The insights figures over a real database of each kind, with a fixed clock.</summary>
public abstract class InsightsServiceTests(DatabaseProvider provider) : IAsyncLifetime
{
    // Thursday 26 November 2026, 12:00 UTC.
    private static readonly DateTime Now = new(2026, 11, 26, 12, 0, 0, DateTimeKind.Utc);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(Now));
    private TestDatabase _database = default!;
    private InsightsData _data = default!;
    private InsightsService _service = default!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(provider);
        _data = new InsightsData(_database.Factory);
        _service = new InsightsService(_database.Factory, _clock);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task EmptyDatabase_GivesAnEmptyReport_WithAllBuckets()
    {
        var report = await _service.GetReportAsync(InsightsPeriod.Week);

        Assert.True(report.IsEmpty);
        Assert.Equal(7, report.Buckets.Count);
        Assert.Null(report.Deployments.SuccessRate);
        Assert.Null(report.Holds.ExpiredShare);
        Assert.Null(report.Waits); // nobody served from the queue
    }

    [Fact]
    public async Task Waits_FromJoiningTheQueueToGettingTheSlot_CountOnlyEntriesServedInThePeriod()
    {
        await using (var db = _database.Factory.CreateDbContext())
        {
            WaitlistEntry Entry(string user, double joinedHoursAgo, double endedHoursAgo, WaitlistState state) => new()
            {
                UserId = user,
                UserName = user,
                App = "storefront",
                Branch = "main",
                Purpose = "wait",
                JoinedAt = Now.AddHours(-joinedHoursAgo),
                EndedAt = Now.AddHours(-endedHoursAgo),
                State = state,
            };
            db.Waitlist.AddRange(
                Entry("a", 5, 4, WaitlistState.Served),    // waited 1 h
                Entry("b", 5, 3, WaitlistState.Served),    // 2 h
                Entry("c", 5, 1, WaitlistState.Served),    // 4 h
                Entry("d", 5, 2, WaitlistState.Left),      // left: no wait to count
                Entry("e", 240, 200, WaitlistState.Served)); // served before the period
            await db.SaveChangesAsync();
        }

        var waits = (await _service.GetReportAsync(InsightsPeriod.Day)).Waits;

        Assert.NotNull(waits);
        Assert.Equal(3, waits.Served);
        Assert.Equal(TimeSpan.FromHours(2), waits.Median);
        Assert.Equal(TimeSpan.FromHours(4), waits.P90);
        Assert.Equal(240, waits.MedianMinutesPerBucket.Max());
    }

    [Fact]
    public async Task Day_UtilisationPerHour_CountsOnlyTheHeldPart_AndTheRunningHoldUntilNow()
    {
        var qa1 = await _data.SlotAsync("qa-1", Now.AddDays(-30));
        var qa2 = await _data.SlotAsync("qa-2", Now.AddDays(-30));
        // qa-1: 09:30–10:00 released; 11:00 → now, still held.
        await _data.HoldAsync(qa1, "dana", Now.AddHours(-2.5), Now.AddHours(-2));
        await _data.HoldAsync(qa1, "devon", Now.AddHours(-1), null);
        // A hold from before the period that ended in its first hour (13:00–13:15 yesterday, the period starting 13:00).
        await _data.HoldAsync(qa2, "quinn", Now.AddHours(-25), Now.AddHours(-22.75), ReleaseReason.Expired);

        var report = await _service.GetReportAsync(InsightsPeriod.Day);

        Assert.Equal(24, report.Buckets.Count);
        Assert.Equal(Now.AddHours(-23), report.From); // buckets 13:00 yesterday … 12:00 today (the current hour, just begun)
        Assert.Equal("09:00", report.Buckets[20].Label);
        var shares = report.Slots.Single(s => s.Slot == "qa-1").HeldShare;
        Assert.Equal([0.5, 0, 1, 0], shares.Skip(20).ToArray());
        Assert.Equal(TimeSpan.FromMinutes(90), report.Slots.Single(s => s.Slot == "qa-1").Held);
        Assert.Equal(0.25, report.Slots.Single(s => s.Slot == "qa-2").HeldShare[0]);
        Assert.Equal(1, report.Holds.Expired);
        Assert.Equal(1, report.Holds.Released);
        Assert.Equal(1, report.Holds.ExpiredPerBucket[0]);
        Assert.Equal(1, report.Holds.ReleasedPerBucket[21]); // released at 10:00
        Assert.False(report.IsEmpty);
    }

    [Fact]
    public async Task AllSlotsBusy_IsTheTimeEveryEnabledSlotWasHeldAtOnce()
    {
        var qa1 = await _data.SlotAsync("qa-1", Now.AddDays(-30));
        var qa2 = await _data.SlotAsync("qa-2", Now.AddDays(-30));
        await _data.SlotAsync("off", Now.AddDays(-30), enabled: false); // disabled: never free, never counted
        await _data.HoldAsync(qa1, "dana", Now.AddHours(-10), Now.AddHours(-4));
        await _data.HoldAsync(qa2, "devon", Now.AddHours(-6), Now.AddHours(-5));
        await _data.HoldAsync(qa2, "quinn", Now.AddHours(-5), Now.AddHours(-3)); // back to back: still busy

        var report = await _service.GetReportAsync(InsightsPeriod.Day);

        Assert.Equal(TimeSpan.FromHours(2), report.AllSlotsBusy);
        Assert.DoesNotContain(report.Slots, s => s.Slot == "off");
    }

    [Fact]
    public async Task Deployments_SuccessRateLeavesOutCancelled_DurationsAndPercentiles()
    {
        var qa1 = await _data.SlotAsync("qa-1", Now.AddDays(-30));
        var at = Now.AddDays(-2);
        foreach (var seconds in new[] { 20, 40, 50, 70, 90, 100, 150, 200, 400, 900 })
        {
            await _data.DeploymentAsync(qa1, null, "main", DeploymentState.Succeeded, at, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(seconds));
        }

        await _data.DeploymentAsync(qa1, null, "crash", DeploymentState.Failed, at, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(45));
        await _data.DeploymentAsync(qa1, null, "x", DeploymentState.Cancelled, at, null, null);
        await _data.DeploymentAsync(qa1, null, "y", DeploymentState.Running, at, TimeSpan.FromSeconds(1), null);
        await _data.DeploymentAsync(qa1, null, "old", DeploymentState.Failed, Now.AddDays(-9), TimeSpan.Zero, TimeSpan.FromSeconds(5)); // before the week

        var d = (await _service.GetReportAsync(InsightsPeriod.Week)).Deployments;

        Assert.Equal((10, 1, 1), (d.Succeeded, d.Failed, d.Cancelled));
        Assert.Equal(10 / 11d, d.SuccessRate);
        Assert.Equal(TimeSpan.FromSeconds(90), d.MedianDuration);
        Assert.Equal(TimeSpan.FromSeconds(400), d.P90Duration);
        Assert.Equal(TimeSpan.FromSeconds(2), d.MedianQueued);
        Assert.Equal([1, 2, 3, 2, 1, 1], d.Durations.Select(r => r.Succeeded).ToArray());
        Assert.Equal([0, 1, 0, 0, 0, 0], d.Durations.Select(r => r.Failed).ToArray());
        Assert.Equal(10, d.SucceededPerBucket.Sum());
    }

    [Fact]
    public void Buckets_FollowTheReadersDays_AcrossADaylightSavingChange()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        // Sunday 29 March 2026, 12:00 UTC: Berlin went from +1 to +2 at 02:00 local that morning.
        var buckets = InsightsService.MakeBuckets(InsightsPeriod.Week, new DateTime(2026, 3, 29, 12, 0, 0, DateTimeKind.Utc), zone);

        Assert.Equal("Mon 23", buckets[0].Label);
        Assert.Equal("Sun 29", buckets[^1].Label);
        Assert.Equal(new DateTime(2026, 3, 28, 23, 0, 0, DateTimeKind.Utc), buckets[^1].Start); // local midnight, +1
        Assert.Equal(new DateTime(2026, 3, 29, 22, 0, 0, DateTimeKind.Utc), buckets[^1].End);   // next local midnight, +2
        Assert.Equal(TimeSpan.FromHours(23), buckets[^1].End - buckets[^1].Start);
        Assert.All(buckets.Zip(buckets.Skip(1)), pair => Assert.Equal(pair.First.End, pair.Second.Start));

        var quarter = InsightsService.MakeBuckets(InsightsPeriod.Quarter, Now, TimeZoneInfo.Utc);
        Assert.Equal(13, quarter.Count);
        Assert.Equal(DayOfWeek.Monday, quarter[^1].Start.DayOfWeek);
    }

    [Fact]
    public async Task SlotHistory_NewestFirst_WithBranchesDeployedAndTheQaOutcome_PagedByHold()
    {
        var qa1 = await _data.SlotAsync("qa-1", Now.AddDays(-30));
        var qa2 = await _data.SlotAsync("qa-2", Now.AddDays(-30));
        var first = await _data.HoldAsync(qa1, "dana", Now.AddHours(-8), Now.AddHours(-6), ReleaseReason.QaDone, QaOutcome.Fail, "payment test", "checkout 500s");
        await _data.DeploymentAsync(qa1, first, "feature/pay", DeploymentState.Succeeded, Now.AddHours(-8), TimeSpan.Zero, TimeSpan.FromMinutes(1));
        await _data.DeploymentAsync(qa1, first, "feature/pay", DeploymentState.Succeeded, Now.AddHours(-7), TimeSpan.Zero, TimeSpan.FromMinutes(1));
        await _data.DeploymentAsync(qa1, first, "main", DeploymentState.Failed, Now.AddHours(-7), TimeSpan.Zero, TimeSpan.FromMinutes(1), app: "payments");
        var second = await _data.HoldAsync(qa1, "devon", Now.AddHours(-2), null, purpose: "search");
        await _data.HoldAsync(qa2, "quinn", Now.AddHours(-3), null);

        var history = await _service.GetSlotHistoryAsync(qa1.Id);

        Assert.Equal([second.Id, first.Id], history.Select(h => h.HoldId).ToArray());
        Assert.Empty(history[0].Deployments);
        Assert.Null(history[0].ReleasedAt);
        var done = history[1];
        Assert.Equal(("dana", "payment test", ReleaseReason.QaDone, QaOutcome.Fail, "checkout 500s"), (done.HolderId, done.Purpose, done.ReleaseReason!.Value, done.QaOutcome!.Value, done.ReleaseNote));
        Assert.Equal(["storefront@feature/pay", "payments@main"], done.Branches.ToArray());
        Assert.Equal(3, done.Deployments.Count);

        var page2 = await _service.GetSlotHistoryAsync(qa1.Id, take: 1, beforeHoldId: second.Id);
        Assert.Equal(first.Id, Assert.Single(page2).HoldId);
    }
}
