using DeployPortal.Web.Audit;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using DeployPortal.Web.Waitlist;

namespace DeployPortal.Web.Tests.Waitlist;

public sealed class SqliteWaitlistTests() : WaitlistTests(DatabaseProvider.Sqlite);

public sealed class PostgresWaitlistTests() : WaitlistTests(DatabaseProvider.Postgres);

/// <summary>Joining, leaving and the hand-over of freed slots, through the real services and a real database of each kind.</summary>
public abstract class WaitlistTests(DatabaseProvider provider) : IAsyncLifetime
{
    private WaitlistHarness _h = default!;

    public async Task InitializeAsync() => _h = await WaitlistHarness.CreateAsync(provider);

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Join_AsViewer_IsForbidden_AndNothingIsQueued()
    {
        var slot = await _h.Slots.AddSlotAsync("qa-1");

        var result = await _h.JoinAsync(TestUsers.Viewer, slot);

        Assert.Equal(FailureKind.Forbidden, result.Failure?.Kind);
        Assert.Empty(await _h.EntriesAsync());
        Assert.Equal(AuditActions.Denied, Assert.Single(await _h.Slots.AuditAsync()).Action);
    }

    [Theory]
    [InlineData("nope", "main", "x", "Choose an app")]
    [InlineData("storefront", "", "x", "Choose a branch")]
    [InlineData("storefront", "feature/gone", "x", "no branch called \"feature/gone\"")]
    [InlineData("storefront", "main", " ", "what you need the slot for")]
    public async Task Join_WithBadInput_IsInvalid_AndNothingIsQueued(string app, string branch, string purpose, string message)
    {
        var slot = await _h.Slots.AddSlotAsync("qa-1");

        var result = await _h.JoinAsync(TestUsers.Dana, slot, app, branch, purpose);

        Assert.Equal(FailureKind.Invalid, result.Failure?.Kind);
        Assert.Contains(message, result.Failure!.Message);
        Assert.Empty(await _h.EntriesAsync());
    }

    [Fact]
    public async Task Join_DisabledSlot_IsInvalid()
    {
        var slot = await _h.Slots.AddSlotAsync("qa-1", enabled: false);

        var result = await _h.JoinAsync(TestUsers.Dana, slot);

        Assert.Equal(FailureKind.Invalid, result.Failure?.Kind);
        Assert.Contains("disabled", result.Failure!.Message);
    }

    [Fact]
    public async Task Join_SecondEntryForTheSameApp_IsRefused_ButAnotherAppOrADoubleClickIsFine()
    {
        var slot = await _h.Slots.AddSlotAsync("qa-1");
        await ClaimAsync(TestUsers.Devon, slot);

        var first = await _h.JoinAsync(TestUsers.Dana, slot, "storefront", "main");
        var doubleClick = await _h.JoinAsync(TestUsers.Dana, slot, "storefront", "main");
        var other = await _h.JoinAsync(TestUsers.Dana, null, "storefront", "feature/login");
        var otherApp = await _h.JoinAsync(TestUsers.Dana, null, "payments", "main");

        Assert.True(first.Succeeded, first.Failure?.Message);
        Assert.Equal(first.Value!.Id, doubleClick.Value?.Id);
        Assert.Equal(FailureKind.Conflict, other.Failure?.Kind);
        Assert.Equal("You are already in the queue for storefront (main into qa-1). Leave that entry first to change it.", other.Failure!.Message);
        Assert.True(otherApp.Succeeded, otherApp.Failure?.Message);
        Assert.Equal(2, (await _h.EntriesAsync()).Count);
        Assert.Equal(2, (await _h.Slots.AuditAsync()).Count(a => a.Action == AuditActions.QueueJoin));
    }

    [Fact]
    public async Task Join_WhenAFittingSlotIsFree_IsServedAtOnce()
    {
        var slot = await _h.Slots.AddSlotAsync("qa-1");

        var result = await _h.JoinAsync(TestUsers.Dana, null, purpose: "login test");

        Assert.Equal(WaitlistState.Served, result.Value?.State);
        Assert.Equal("qa-1", result.Value!.ServedSlotName);
        var hold = Assert.Single(await _h.ActiveHoldsAsync());
        Assert.Equal((slot.Id, "dana", "login test"), (hold.SlotId, hold.HolderId, hold.Purpose));
    }

    [Fact]
    public async Task Release_HandsTheSlotToTheFirstInLineWhoseRequestFits_InJoinOrder()
    {
        var qa1 = await _h.Slots.AddSlotAsync("qa-1");
        var qa2 = await _h.Slots.AddSlotAsync("qa-2");
        var first1 = await ClaimAsync(TestUsers.Ada, qa1);
        var first2 = await ClaimAsync(TestUsers.Ada, qa2);
        var u1 = TestUsers.Make("u1", "User One", "Developer");
        var u2 = TestUsers.Make("u2", "User Two", "QA");
        var u3 = TestUsers.Make("u3", "User Three", "Developer");
        var u4 = TestUsers.Make("u4", "User Four", "Developer");
        await JoinAsync(u1, null, "feature/login");
        await JoinAsync(u2, qa1);
        await JoinAsync(u3, null);
        await JoinAsync(u4, qa2);

        // qa-2 frees: u1 (any) joined first.
        await ReleaseAsync(TestUsers.Ada, qa2, first2);
        var u1Hold = await HolderOfAsync(qa2, "u1");
        var deployment = Assert.Single(await _h.DeploymentsAsync());
        Assert.Equal((qa2.Id, u1Hold.Id, "storefront", "feature/login", "u1", DeploymentState.Queued),
            (deployment.SlotId, deployment.HoldId, deployment.App, deployment.Branch, deployment.RequestedById, deployment.State));
        Assert.Contains(_h.Slots.Jobs.Jobs, j => j.Type == typeof(DeploymentJob) && (long)j.Args[0] == deployment.Id);
        var turn = Assert.Single(_h.Slots.Events.Of(PortalEventKind.WaitlistTurn));
        Assert.Equal("qa-2", turn.Slot);
        Assert.Contains("storefront@feature/login is deploying", turn.Text);
        _h.Slots.Clock.Advance(TimeSpan.FromHours(1));

        // qa-1 frees (QA done): u2 waited for qa-1 by name and is ahead of u3.
        await _h.Slots.Actions.ReleaseAsync(TestUsers.Quinn, new ReleaseRequest(qa1.Id, first1.Id, QaOutcome.Pass));
        var u2Hold = await HolderOfAsync(qa1, "u2");

        // u1's hold on qa-2 expires: u3 (any) joined before u4 (qa-2).
        _h.Slots.Clock.SetUtcNow(u1Hold.Until);
        await _h.Slots.ExpiryJob.RunAsync(default);
        await HolderOfAsync(qa2, "u3");

        // qa-1 frees again: nobody waits for it (u4 wants qa-2 only), so it stays free.
        await ReleaseAsync(TestUsers.Make("u2", "User Two", "QA"), qa1, u2Hold);
        Assert.DoesNotContain(await _h.ActiveHoldsAsync(), h => h.SlotId == qa1.Id);

        // An admin takes qa-2 back from u3: u4 finally gets it.
        var u3Hold = (await _h.ActiveHoldsAsync()).Single(h => h.SlotId == qa2.Id);
        await ReleaseAsync(TestUsers.Ada, qa2, u3Hold);
        await HolderOfAsync(qa2, "u4");

        var entries = await _h.EntriesAsync();
        Assert.All(entries, e => Assert.Equal(WaitlistState.Served, e.State));
        Assert.Equal(["u1", "u2", "u3", "u4"], entries.OrderBy(e => e.HoldId).Select(e => e.UserId));
        var deployments = await _h.DeploymentsAsync();
        Assert.Equal(4, deployments.Count);
        Assert.All(entries, e => Assert.Equal(e.HoldId, deployments.Single(d => d.Id == e.DeploymentId).HoldId));
        Assert.Equal(4, (await _h.Slots.AuditAsync()).Count(a => a.Action == AuditActions.QueueServed));
        Assert.Equal(4, _h.Slots.Events.Of(PortalEventKind.WaitlistTurn).Count);
    }

    [Fact]
    public async Task Join_AfterTheQueueServedThePerson_IsRefused_SoTheNextReleaseDoesNotHandThemASecondSlot()
    {
        var qa1 = await _h.Slots.AddSlotAsync("qa-1");
        var qa2 = await _h.Slots.AddSlotAsync("qa-2");
        var hold1 = await ClaimAsync(TestUsers.Ada, qa1);
        var hold2 = await ClaimAsync(TestUsers.Ada, qa2);
        await JoinAsync(TestUsers.Quinn, null);
        await ReleaseAsync(TestUsers.Ada, qa2, hold2);
        var served = await HolderOfAsync(qa2, "quinn");

        // Quinn presses "Join the queue" again; the next release must not hand her qa-1 too.
        var again = await _h.JoinAsync(TestUsers.Quinn, null, "storefront", "feature/login");
        await ReleaseAsync(TestUsers.Ada, qa1, hold1);

        Assert.Equal(FailureKind.Conflict, again.Failure?.Kind);
        Assert.Equal("You already hold qa-2 for storefront: deploy into qa-2 from the deploy form, or release it before queueing again.", again.Failure!.Message);
        Assert.Single(await _h.EntriesAsync());
        Assert.Equal([qa2.Id], (await _h.ActiveHoldsAsync()).Select(h => h.SlotId));
        Assert.True((await _h.JoinAsync(TestUsers.Quinn, null, "payments", "main")).Succeeded); // another app is another need

        // Once she gives qa-2 back she may queue for storefront again.
        await ReleaseAsync(TestUsers.Quinn, qa2, served);
        Assert.Equal(WaitlistState.Served, (await _h.JoinAsync(TestUsers.Quinn, null, "storefront", "main")).Value?.State);
    }

    [Fact]
    public async Task Leave_OwnEntry_TakesItOut_OthersCannotButAnAdminCan_AndAServedEntryCannotLeave()
    {
        var slot = await _h.Slots.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Ada, slot);
        var dana = await JoinAsync(TestUsers.Dana, slot);
        var devon = await JoinAsync(TestUsers.Devon, null);
        var quinn = await JoinAsync(TestUsers.Quinn, null);

        var byOther = await _h.Waitlist.LeaveAsync(TestUsers.Devon, dana.Id);
        Assert.Equal(FailureKind.Forbidden, byOther.Failure?.Kind);
        var own = await _h.Waitlist.LeaveAsync(TestUsers.Dana, dana.Id);
        Assert.Equal(WaitlistState.Left, own.Value?.State);
        var again = await _h.Waitlist.LeaveAsync(TestUsers.Dana, dana.Id);
        Assert.Equal(FailureKind.Conflict, again.Failure?.Kind);
        var byAdmin = await _h.Waitlist.LeaveAsync(TestUsers.Ada, quinn.Id);
        Assert.Equal(WaitlistState.Left, byAdmin.Value?.State);

        // Dana left, so the freed slot goes to Devon; once served, leaving is too late.
        await ReleaseAsync(TestUsers.Ada, slot, hold);
        await HolderOfAsync(slot, "devon");
        var late = await _h.Waitlist.LeaveAsync(TestUsers.Devon, devon.Id);
        Assert.Equal(FailureKind.Conflict, late.Failure?.Kind);
        Assert.Contains("Too late to leave: qa-1 was already handed to Devon Developer", late.Failure!.Message);

        var audit = await _h.Slots.AuditAsync();
        Assert.Equal(2, audit.Count(a => a.Action == AuditActions.QueueLeave));
        Assert.Contains(audit, a => a.Action == AuditActions.QueueLeave && a.ActorName == "Ada Admin" && a.Details.Contains("Quinn QA's entry"));
    }

    [Fact]
    public async Task Queue_ShowsPositionsAndWaitsEstimatedFromRecentHoldLengths()
    {
        var qa1 = await _h.Slots.AddSlotAsync("qa-1");
        var qa2 = await _h.Slots.AddSlotAsync("qa-2");
        // Five past holds of 1 h (and one forgotten one of 20 h, which the median ignores).
        foreach (var length in new[] { 1, 1, 1, 1, 1, 20 })
        {
            var past = await ClaimAsync(TestUsers.Ada, qa1, TimeSpan.FromHours(24));
            _h.Slots.Clock.Advance(TimeSpan.FromHours(length));
            await ReleaseAsync(TestUsers.Ada, qa1, past);
        }

        await ClaimAsync(TestUsers.Ada, qa1, TimeSpan.FromHours(4));
        _h.Slots.Clock.Advance(TimeSpan.FromMinutes(15));
        await ClaimAsync(TestUsers.Ada, qa2, TimeSpan.FromHours(4));
        await JoinAsync(TestUsers.Dana, null);
        await JoinAsync(TestUsers.Devon, qa1);
        await JoinAsync(TestUsers.Quinn, null);

        var queue = await _h.Waitlist.GetQueueAsync();

        Assert.Equal(TimeSpan.FromHours(1), queue.TypicalHold);
        Assert.Equal(6, queue.HoldsSampled);
        // qa-1 is expected free in 45 min (claimed 15 min ago), qa-2 in 1 h; then each a typical hour later.
        Assert.Equal([("dana", 1, 45), ("devon", 2, 105), ("quinn", 3, 60)],
            queue.Waiting.Select(e => (e.UserId, e.Position, (int)Math.Round(e.ExpectedWait!.Value.TotalMinutes))));
    }

    private async Task<Hold> ClaimAsync(System.Security.Claims.ClaimsPrincipal user, Slot slot, TimeSpan? duration = null)
    {
        var result = await _h.Slots.Actions.ClaimAsync(user, new ClaimRequest(slot.Id, "holding", duration));
        Assert.True(result.Succeeded, result.Failure?.Message);
        return (await _h.ActiveHoldsAsync()).Single(h => h.SlotId == slot.Id);
    }

    private async Task ReleaseAsync(System.Security.Claims.ClaimsPrincipal user, Slot slot, Hold hold)
    {
        var result = await _h.Slots.Actions.ReleaseAsync(user, new ReleaseRequest(slot.Id, hold.Id));
        Assert.True(result.Succeeded, result.Failure?.Message);
    }

    private async Task<QueueEntryView> JoinAsync(System.Security.Claims.ClaimsPrincipal user, Slot? slot, string branch = "main")
    {
        var result = await _h.JoinAsync(user, slot, branch: branch);
        Assert.True(result.Succeeded, result.Failure?.Message);
        Assert.Equal(WaitlistState.Waiting, result.Value!.State);
        _h.Slots.Clock.Advance(TimeSpan.FromSeconds(1));
        return result.Value;
    }

    private async Task<Hold> HolderOfAsync(Slot slot, string userId)
    {
        var hold = Assert.Single(await _h.ActiveHoldsAsync(), h => h.SlotId == slot.Id);
        Assert.Equal(userId, hold.HolderId);
        return hold;
    }
}
