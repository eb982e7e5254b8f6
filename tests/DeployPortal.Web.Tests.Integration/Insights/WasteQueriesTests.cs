using DeployPortal.Web.Apps;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Data;
using DeployPortal.Web.Insights;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace DeployPortal.Web.Tests.Insights;

public sealed class SqliteWasteQueriesTests() : WasteQueriesTests(DatabaseProvider.Sqlite);

public sealed class PostgresWasteQueriesTests() : WasteQueriesTests(DatabaseProvider.Postgres);

/// <summary>The "waiting and waste" figures over a real database of each kind, with history written at chosen times.</summary>
public abstract class WasteQueriesTests(DatabaseProvider provider) : IAsyncLifetime
{
    // Thursday 26 November 2026, 12:00 UTC.
    private static readonly DateTime Now = new(2026, 11, 26, 12, 0, 0, DateTimeKind.Utc);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(Now));
    private TestDatabase _database = default!;
    private InsightsData _data = default!;
    private WasteQueries _queries = default!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(provider);
        _data = new InsightsData(_database.Factory);
        var apps = new AppsOptions { Items = [new AppDefinition { Name = "storefront", Replicas = 2 }, new AppDefinition { Name = "payments", Replicas = 1 }] };
        _queries = new WasteQueries(_database.Factory, new AppCatalog(new TestOptionsMonitor<AppsOptions>(apps), Options.Create(new PortalOptions()), new TestHostEnvironment()), _clock);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task NothingHappened_IsEmpty()
    {
        var slot = await _data.SlotAsync("qa-1", Now.AddDays(-30));
        await _data.HoldAsync(slot, "dana", Now.AddDays(-2), Now.AddDays(-2).AddHours(1)); // an ordinary hold, released by hand

        var report = await _queries.GetAsync();

        Assert.True(report.IsEmpty);
        Assert.Null(report.ThisWeek.MedianWait);
        Assert.Equal(0, report.ThisWeek.PodHoursSaved);
    }

    [Fact]
    public async Task Waits_MedianAndP90_ThisWeekAgainstLast_FromJoinedToServed()
    {
        await using (var db = _database.Factory.CreateDbContext())
        {
            WaitlistEntry Entry(double joinedDaysAgo, int waitedMinutes, WaitlistState state = WaitlistState.Served) => new()
            {
                UserId = "u",
                UserName = "u",
                App = "storefront",
                Branch = "main",
                Purpose = "wait",
                JoinedAt = Now.AddDays(-joinedDaysAgo),
                EndedAt = Now.AddDays(-joinedDaysAgo).AddMinutes(waitedMinutes),
                State = state,
            };
            db.Waitlist.AddRange(
                Entry(1, 10), Entry(2, 20), Entry(3, 30), Entry(4, 40), Entry(5, 100), // this week: median 30, p90 100
                Entry(2, 500, WaitlistState.Left),                                       // left the queue: no wait counted
                Entry(9, 60), Entry(10, 90),                                              // the week before: median 60, p90 90
                Entry(20, 5));                                                            // older than both
            await db.SaveChangesAsync();
        }

        var report = await _queries.GetAsync();

        Assert.Equal(5, report.ThisWeek.Served);
        Assert.Equal(TimeSpan.FromMinutes(30), report.ThisWeek.MedianWait);
        Assert.Equal(TimeSpan.FromMinutes(100), report.ThisWeek.P90Wait);
        Assert.Equal(2, report.LastWeek.Served);
        Assert.Equal(TimeSpan.FromMinutes(60), report.LastWeek.MedianWait);
        Assert.Equal(TimeSpan.FromMinutes(90), report.LastWeek.P90Wait);
        Assert.False(report.IsEmpty);
    }

    [Fact]
    public async Task GivenBack_CountsHoldsEndedForIdleness_AndTheHoursTheyHadLeft()
    {
        var slot = await _data.SlotAsync("qa-1", Now.AddDays(-30));
        await GivenBackAsync(slot, at: Now.AddDays(-1), plannedEnd: Now.AddDays(-1).AddHours(3));        // 3 h reclaimed
        await GivenBackAsync(slot, at: Now.AddDays(-2), plannedEnd: Now.AddDays(-2).AddMinutes(90));     // 1.5 h
        await GivenBackAsync(slot, at: Now.AddDays(-8), plannedEnd: Now.AddDays(-8).AddHours(2));        // last week: 2 h
        await _data.HoldAsync(slot, "erin", Now.AddDays(-3), Now.AddDays(-3).AddHours(1), ReleaseReason.Expired); // expired at its end: not idleness

        var report = await _queries.GetAsync();

        Assert.Equal(2, report.ThisWeek.GivenBack);
        Assert.Equal(4.5, report.ThisWeek.IdleHoursReclaimed, 3);
        Assert.Equal(1, report.LastWeek.GivenBack);
        Assert.Equal(2, report.LastWeek.IdleHoursReclaimed, 3);
    }

    [Fact]
    public async Task PodHoursSaved_AreTheHoursAsleepTimesTheReplicasOfTheAppsDeployed()
    {
        var qa1 = await _data.SlotAsync("qa-1", Now.AddDays(-30));
        var qa2 = await _data.SlotAsync("qa-2", Now.AddDays(-30));
        var qa3 = await _data.SlotAsync("qa-3", Now.AddDays(-30));
        // qa-1: storefront (2 replicas) and payments (1), asleep 2 h then woken: 6 pod-hours.
        var held = await _data.HoldAsync(qa1, "dana", Now.AddDays(-1), null);
        await _data.DeploymentAsync(qa1, held, "main", DeploymentState.Succeeded, Now.AddDays(-1), TimeSpan.Zero, TimeSpan.FromMinutes(1));
        await _data.DeploymentAsync(qa1, held, "main", DeploymentState.Succeeded, Now.AddDays(-1), TimeSpan.Zero, TimeSpan.FromMinutes(1), app: "payments");
        await _data.DeploymentAsync(qa1, held, "broken", DeploymentState.Failed, Now.AddDays(-1), TimeSpan.Zero, TimeSpan.FromMinutes(1), app: "other");
        await AuditAsync(qa1, AuditActions.Sleep, Now.AddHours(-10));
        await AuditAsync(qa1, AuditActions.Wake, Now.AddHours(-8));
        // qa-2: storefront, asleep for the last 3 h of a hold that ended asleep: 6 pod-hours.
        var ended = await _data.HoldAsync(qa2, "erin", Now.AddDays(-1), Now.AddHours(-1), ReleaseReason.Expired);
        await _data.DeploymentAsync(qa2, ended, "main", DeploymentState.Succeeded, Now.AddDays(-1), TimeSpan.Zero, TimeSpan.FromMinutes(1));
        await AuditAsync(qa2, AuditActions.Sleep, Now.AddHours(-4));
        // qa-3: asleep since 30 min ago and still asleep, a sleep across the weeks' boundary in last week's figure.
        var asleep = await _data.HoldAsync(qa3, "finn", Now.AddDays(-8), null);
        await _data.DeploymentAsync(qa3, asleep, "main", DeploymentState.Succeeded, Now.AddDays(-8), TimeSpan.Zero, TimeSpan.FromMinutes(1));
        await AuditAsync(qa3, AuditActions.Sleep, Now.AddDays(-7).AddHours(-1));
        await AuditAsync(qa3, AuditActions.Wake, Now.AddDays(-7).AddHours(1));
        await AuditAsync(qa3, AuditActions.Sleep, Now.AddMinutes(-30));

        var report = await _queries.GetAsync();

        Assert.Equal(6 + 6 + 2 + 1, report.ThisWeek.PodHoursSaved, 3);
        Assert.Equal(2, report.LastWeek.PodHoursSaved, 3);
    }

    private async Task GivenBackAsync(Slot slot, DateTime at, DateTime plannedEnd)
    {
        var hold = await _data.HoldAsync(slot, "forgetful", at.AddHours(-2), at, ReleaseReason.Expired);
        await using var db = _database.Factory.CreateDbContext();
        db.Attach(hold);
        hold.Until = at;
        hold.GivenBackUntil = plannedEnd;
        await db.SaveChangesAsync();
    }

    private async Task AuditAsync(Slot slot, string action, DateTime at)
    {
        await using var db = _database.Factory.CreateDbContext();
        db.AuditEvents.Add(new AuditEvent { At = at, ActorId = "system", ActorName = "DeployPortal", Action = action, SlotId = slot.Id, SlotName = slot.Name });
        await db.SaveChangesAsync();
    }
}
