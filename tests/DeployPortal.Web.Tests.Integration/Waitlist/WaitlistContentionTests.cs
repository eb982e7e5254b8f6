using System.Security.Claims;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Waitlist;

public sealed class SqliteWaitlistContentionTests() : WaitlistContentionTests(DatabaseProvider.Sqlite);

public sealed class PostgresWaitlistContentionTests() : WaitlistContentionTests(DatabaseProvider.Postgres);

/// <summary>
/// Six slots, all held; round after round every holder releases at the same moment as a crowd joins the
/// queue. The database decides: every freed slot goes to exactly one waiting person, nobody is served twice,
/// every hand-over has exactly one hold and one deployment, and those who waited from before the round are
/// served first, in join order.
/// </summary>
public abstract class WaitlistContentionTests(DatabaseProvider provider) : IAsyncLifetime
{
    private const int SlotCount = 6;
    private const int JoinersPerRound = 10;
    private const int Rounds = 4;
    private WaitlistHarness _h = default!;

    public async Task InitializeAsync() => _h = await WaitlistHarness.CreateAsync(provider);

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task ReleasesAndJoinsAtOnce_EveryFreedSlotGoesToExactlyOneWaiter_OldestFirst()
    {
        var slots = new List<Slot>();
        for (var i = 1; i <= SlotCount; i++)
        {
            slots.Add(await _h.Slots.AddSlotAsync($"qa-{i}"));
        }

        var users = new Dictionary<string, ClaimsPrincipal>();
        ClaimsPrincipal User(string id) => users.TryGetValue(id, out var u) ? u : users[id] = TestUsers.Make(id, $"Person {id}", "Developer");
        for (var i = 0; i < SlotCount; i++)
        {
            Assert.True((await _h.Slots.Actions.ClaimAsync(User($"first-{i}"), new ClaimRequest(slots[i].Id, "first", null))).Succeeded);
        }

        // Before the first round, twelve people already wait for any slot: the first six of them must win round 1.
        for (var i = 0; i < 12; i++)
        {
            Assert.True((await _h.JoinAsync(User($"early-{i}"), null)).Succeeded);
            _h.Slots.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        for (var round = 1; round <= Rounds; round++)
        {
            var waitingBefore = (await _h.EntriesAsync()).Where(e => e.State == WaitlistState.Waiting).ToList();
            var holds = await _h.ActiveHoldsAsync();
            Assert.Equal(SlotCount, holds.Count);

            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var releases = holds.Select(h => Task.Run(async () =>
            {
                await start.Task;
                return (await _h.Slots.Actions.ReleaseAsync(User(h.HolderId), new ReleaseRequest(h.SlotId, h.Id))).Succeeded;
            }));
            var r = round;
            var joins = Enumerable.Range(0, JoinersPerRound).Select(i => Task.Run(async () =>
            {
                await start.Task;
                // Half want a named slot, half any; some name the same slot.
                var slot = i % 2 == 0 ? slots[i % SlotCount] : null;
                return (await _h.JoinAsync(User($"r{r}-{i}"), slot, purpose: $"round {r}")).Succeeded;
            }));
            var all = releases.Concat(joins).ToArray();
            start.SetResult();
            Assert.All(await Task.WhenAll(all), Assert.True);

            await AssertExactlyOnceAsync();

            // Those already waiting when the round began were visible to every hand-over, and all but named ones
            // fit every slot: the oldest six (all waiting for any slot here) are the ones served this round.
            var servedThisRound = (await _h.EntriesAsync()).Where(e => e.State == WaitlistState.Served && waitingBefore.Any(w => w.Id == e.Id)).Select(e => e.Id).ToList();
            var oldestAny = waitingBefore.Where(e => e.SlotId is null).OrderBy(e => e.JoinedAt).ThenBy(e => e.Id).Take(SlotCount).Select(e => e.Id).ToList();
            if (round == 1)
            {
                Assert.Equal(oldestAny, servedThisRound.Order().ToList());
            }
            else
            {
                Assert.All(servedThisRound, id => Assert.True(oldestAny.Contains(id) || waitingBefore.Single(w => w.Id == id).SlotId is not null));
            }

            _h.Slots.Clock.Advance(TimeSpan.FromMinutes(5));
        }
    }

    private async Task AssertExactlyOnceAsync()
    {
        var entries = await _h.EntriesAsync();
        var active = await _h.ActiveHoldsAsync();
        var deployments = await _h.DeploymentsAsync();
        await using var db = _h.Database.Factory.CreateDbContext();
        var allHolds = db.Holds.ToList();

        // Every slot is held again (people were waiting for each), each by someone served from the queue.
        Assert.Equal(SlotCount, active.Count);
        Assert.Equal(SlotCount, active.Select(h => h.SlotId).Distinct().Count());
        var served = entries.Where(e => e.State == WaitlistState.Served).ToList();
        foreach (var hold in active)
        {
            var entry = Assert.Single(served, e => e.HoldId == hold.Id);
            Assert.Equal(entry.UserId, hold.HolderId);
            Assert.True(entry.SlotId is null || entry.SlotId == hold.SlotId, "a named entry got another slot");
        }

        // Each served entry became exactly one hold and one deployment under it; waiting entries became nothing.
        Assert.Equal(served.Count, served.Select(e => e.HoldId).Distinct().Count());
        foreach (var entry in served)
        {
            Assert.NotNull(entry.HoldId);
            Assert.Single(allHolds, h => h.Id == entry.HoldId);
            var deployment = Assert.Single(deployments, d => d.HoldId == entry.HoldId);
            Assert.Equal(entry.DeploymentId, deployment.Id);
        }

        Assert.Equal(deployments.Count, served.Count);
        Assert.All(entries.Where(e => e.State == WaitlistState.Waiting), e => Assert.Null(e.HoldId));
        // Nobody waits beside a free slot that fits them (a named waiter's slot is held, and any-waiters see no free slot).
        Assert.DoesNotContain(entries, e => e.State == WaitlistState.Waiting && e.SlotId is { } id && !active.Any(h => h.SlotId == id));
    }
}
