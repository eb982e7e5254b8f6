using DeployPortal.Web.Audit;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Slots;

public sealed class SqliteClaimContentionTests() : ClaimContentionTests(DatabaseProvider.Sqlite);

public sealed class PostgresClaimContentionTests() : ClaimContentionTests(DatabaseProvider.Postgres);

/// <summary>
/// Fifty people click "Claim" on the same slot at the same moment, round after round: the database lets
/// exactly one win, everyone else is told who won, and nothing is left half-written.
/// </summary>
public abstract class ClaimContentionTests(DatabaseProvider provider) : IAsyncLifetime
{
    private const int Claimants = 50;
    private const int Rounds = 12;
    private SlotHarness _h = default!;

    public async Task InitializeAsync() => _h = await SlotHarness.CreateAsync(provider);

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Claim_FiftyAtOnce_ExactlyOneWinsEachRound_RestAreToldWhoWon()
    {
        var slot = await _h.AddSlotAsync("qa-contended");
        var users = Enumerable.Range(1, Claimants).Select(i => TestUsers.Make($"user-{i}", $"User {i}", "Developer")).ToArray();

        for (var round = 1; round <= Rounds; round++)
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var attempts = users.Select((user, i) => Task.Run(async () =>
            {
                await start.Task;
                return await _h.Actions.ClaimAsync(user, new ClaimRequest(slot.Id, $"round {round} try {i}", null));
            })).ToArray();
            start.SetResult();
            var results = await Task.WhenAll(attempts);

            var winner = Assert.Single(results, r => r.Succeeded);
            var losers = results.Where(r => !r.Succeeded).ToList();
            Assert.Equal(Claimants - 1, losers.Count);
            Assert.All(losers, r =>
            {
                Assert.Equal(FailureKind.Conflict, r.Failure!.Kind);
                Assert.Equal($"qa-contended was just taken by {winner.Value!.HolderName} ({winner.Value.Purpose}).", r.Failure.Message);
            });

            var active = (await _h.HoldsAsync(slot.Id)).Where(h => h.ReleasedAt is null).ToList();
            Assert.Equal(winner.Value!.Id, Assert.Single(active).Id);

            var release = await _h.Actions.ReleaseAsync(users.Single(u => u.Identity!.Name == winner.Value.HolderName), new ReleaseRequest(slot.Id, winner.Value.Id));
            Assert.True(release.Succeeded, release.Failure?.Message);
        }

        // No orphans: one hold and one claim event per round, all released.
        var holds = await _h.HoldsAsync(slot.Id);
        Assert.Equal(Rounds, holds.Count);
        Assert.All(holds, h => Assert.NotNull(h.ReleasedAt));
        var audit = await _h.AuditAsync(slot.Id);
        Assert.Equal(Rounds, audit.Count(a => a.Action == AuditActions.Claim));
        Assert.Equal(Rounds, audit.Count(a => a.Action == AuditActions.Release));
    }

    [Fact]
    public async Task ClaimAndRelease_ByManyPeopleAtOnce_TheHistoryNeverShowsTwoHoldsOverlapping()
    {
        // Every reading of the clock moves it on, so a time taken when a request started is earlier than anything
        // that committed while the request waited for the database.
        _h.Clock.AutoAdvanceAmount = TimeSpan.FromMilliseconds(1);
        var slot = await _h.AddSlotAsync("qa-busy");
        var users = Enumerable.Range(1, 8).Select(i => TestUsers.Make($"user-{i}", $"User {i}", "Developer")).ToArray();

        await Task.WhenAll(users.Select(user => Task.Run(async () =>
        {
            for (var i = 0; i < 15; i++)
            {
                var claim = await _h.Actions.ClaimAsync(user, new ClaimRequest(slot.Id, $"try {i}", null));
                if (claim.Succeeded)
                {
                    var release = await _h.Actions.ReleaseAsync(user, new ReleaseRequest(slot.Id, claim.Value!.Id));
                    Assert.True(release.Succeeded, release.Failure?.Message);
                }
            }
        })));

        var holds = (await _h.HoldsAsync(slot.Id)).OrderBy(h => h.Since).ThenBy(h => h.Id).ToList();
        Assert.True(holds.Count > 8, $"only {holds.Count} holds");
        var overlaps = holds.Zip(holds.Skip(1)).Where(p => p.Second.Since < p.First.ReleasedAt)
            .Select(p => $"hold {p.Second.Id} since {p.Second.Since:HH:mm:ss.fff} < hold {p.First.Id} released {p.First.ReleasedAt:HH:mm:ss.fff}").ToList();
        Assert.Empty(overlaps);
    }

    [Fact]
    public async Task Claim_AfterAReleaseLaterThanItsTime_StartsAtTheRelease()
    {
        // The claim took the time, then waited for the slot while the last holder released it.
        var slot = await _h.AddSlotAsync("qa-late");
        var now = _h.Clock.GetUtcNow().UtcDateTime;
        var released = now.AddMinutes(5);
        await using (var db = _h.Database.Factory.CreateDbContext())
        {
            db.Holds.Add(new Hold { SlotId = slot.Id, HolderId = "ada", HolderName = "Ada", Purpose = "before", Since = now.AddHours(-1), Until = now.AddHours(1), ReleasedAt = released });
            await db.SaveChangesAsync();
        }

        var claim = await _h.Actions.ClaimAsync(TestUsers.Make("dana", "Dana", "Developer"), new ClaimRequest(slot.Id, "after", TimeSpan.FromHours(1)));

        Assert.True(claim.Succeeded, claim.Failure?.Message);
        Assert.Equal((released, released.AddHours(1)), (claim.Value!.Since, claim.Value.Until));
    }
}
