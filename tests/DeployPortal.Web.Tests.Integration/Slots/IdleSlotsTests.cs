using DeployPortal.Web.Audit;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Slots;

public sealed class SqliteIdleSlotsTests() : IdleSlotsTests(DatabaseProvider.Sqlite);

public sealed class PostgresIdleSlotsTests() : IdleSlotsTests(DatabaseProvider.Postgres);

/// <summary>Idle holds, their automatic end, and sleep/wake, through the real services and database with a fake clock.</summary>
public abstract class IdleSlotsTests(DatabaseProvider provider) : IAsyncLifetime
{
    private SlotHarness _h = default!;

    public async Task InitializeAsync() => _h = await SlotHarness.CreateAsync(provider);

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private DateTime Now => _h.Clock.GetUtcNow().UtcDateTime;

    private async Task<(Slot Slot, HoldView Hold)> ClaimedAsync(string name, System.Security.Claims.ClaimsPrincipal? user = null)
    {
        var slot = await _h.AddSlotAsync(name);
        var claim = await _h.Actions.ClaimAsync(user ?? TestUsers.Dana, new ClaimRequest(slot.Id, "checkout test", null));
        Assert.True(claim.Succeeded, claim.Failure?.Message);
        return (slot, claim.Value!);
    }

    private async Task<HoldView> HoldOnBoardAsync(int slotId) => (await _h.Board.GetBoardAsync()).Single(s => s.Id == slotId).Hold!;

    [Fact]
    public async Task Hold_WithoutActivity_IsIdleAfterTheConfiguredTime_AndAPageViewMakesItActiveAgain()
    {
        var (slot, _) = await ClaimedAsync("qa-1");
        var after = _h.IdleOptions.CurrentValue.After;

        _h.Clock.Advance(after - TimeSpan.FromMinutes(1));
        Assert.False((await HoldOnBoardAsync(slot.Id)).IsIdle(Now, after));
        _h.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await HoldOnBoardAsync(slot.Id)).IsIdle(Now, after));

        var published = new TaskCompletionSource<SlotChange>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = _h.Notifier.Subscribe(c => { published.TrySetResult(c); return Task.CompletedTask; });
        await _h.Idle.TouchAsync(slot.Id);

        var hold = await HoldOnBoardAsync(slot.Id);
        Assert.False(hold.IsIdle(Now, after));
        Assert.Equal(Now, hold.LastActivityAt);
        Assert.Equal(slot.Id, (await published.Task.WaitAsync(TimeSpan.FromSeconds(10))).SlotId); // boards drop the idle mark
    }

    [Fact]
    public async Task TheKindOfTheLastUse_IsRecorded_ForTheBoardToSayWhyAHoldIsInUse()
    {
        var (slot, _) = await ClaimedAsync("qa-1");
        Assert.Equal(ActivityKind.Claim, (await HoldOnBoardAsync(slot.Id)).LastActivityKind);

        _h.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await _h.Idle.OnAppTrafficAsync([slot.Id]));
        Assert.Equal((ActivityKind.AppTraffic, Now), ((await HoldOnBoardAsync(slot.Id)).LastActivityKind, (await HoldOnBoardAsync(slot.Id)).LastActivityAt));

        _h.Clock.Advance(TimeSpan.FromMinutes(2));
        await _h.Idle.TouchAsync(slot.Id);
        Assert.Equal(ActivityKind.PageView, (await HoldOnBoardAsync(slot.Id)).LastActivityKind);

        _h.Clock.Advance(TimeSpan.FromMinutes(2));
        await _h.Idle.OnDeployAsync(slot.Id);
        Assert.Equal(ActivityKind.Deploy, (await HoldOnBoardAsync(slot.Id)).LastActivityKind);

        _h.Clock.Advance(TimeSpan.FromSeconds(30));
        await _h.Idle.OnAppTrafficAsync([slot.Id]); // within a minute of the last write: neither time nor kind is written
        Assert.Equal(ActivityKind.Deploy, (await HoldOnBoardAsync(slot.Id)).LastActivityKind);
    }

    [Fact]
    public async Task Touch_WithinAMinuteOfTheLast_DoesNotWriteAgain()
    {
        var (slot, claimed) = await ClaimedAsync("qa-1");

        _h.Clock.Advance(TimeSpan.FromSeconds(30));
        await _h.Idle.TouchAsync(slot.Id);
        Assert.Equal(claimed.Since, (await HoldOnBoardAsync(slot.Id)).LastActivityAt);

        _h.Clock.Advance(TimeSpan.FromSeconds(30));
        await _h.Idle.TouchAsync(slot.Id);
        Assert.Equal(Now, (await HoldOnBoardAsync(slot.Id)).LastActivityAt);
    }

    [Fact]
    public async Task Extend_CountsAsActivity()
    {
        var (slot, claimed) = await ClaimedAsync("qa-1");
        _h.Clock.Advance(TimeSpan.FromHours(3));

        var extended = await _h.Actions.ExtendAsync(TestUsers.Dana, slot.Id, claimed.Id, TimeSpan.FromHours(1));

        Assert.True(extended.Succeeded, extended.Failure?.Message);
        Assert.Equal(Now, (await HoldOnBoardAsync(slot.Id)).LastActivityAt);
    }

    [Fact]
    public async Task Sleep_ByTheHolder_MarksTheHoldAsleep_AndADoubleClickQueuesOneJob()
    {
        var (slot, hold) = await ClaimedAsync("qa-1");

        var first = await _h.Idle.SleepAsync(TestUsers.Dana, slot.Id, hold.Id);
        var second = await _h.Idle.SleepAsync(TestUsers.Dana, slot.Id, hold.Id);

        Assert.True(first.Succeeded && second.Succeeded, first.Failure?.Message ?? second.Failure?.Message);
        Assert.Equal(Now, (await HoldOnBoardAsync(slot.Id)).SleepingSince);
        Assert.Single(_h.Jobs.Jobs, j => j.Type == typeof(SlotSleepJob) && j.Method.Name == nameof(SlotSleepJob.SleepAsync));
        Assert.Single(await _h.AuditAsync(slot.Id), a => a.Action == AuditActions.Sleep);
    }

    [Theory]
    [InlineData(DeploymentState.WaitingForImage, "waiting for its image")]
    [InlineData(DeploymentState.Running, "deploying")]
    public async Task Sleep_WhileADeploymentIsOnItsWay_IsRefused_AndNothingChanges(DeploymentState state, string said)
    {
        var (slot, hold) = await ClaimedAsync("qa-1");
        await _h.AddDeploymentAsync(slot.Id, hold.Id, state);

        var refused = await _h.Idle.SleepAsync(TestUsers.Dana, slot.Id, hold.Id);

        Assert.Equal(FailureKind.Conflict, refused.Failure?.Kind);
        Assert.Equal($"qa-1 has a deployment on its way (storefront, {said}): put it to sleep once that has finished.", refused.Failure!.Message);
        Assert.Null((await HoldOnBoardAsync(slot.Id)).SleepingSince);
        Assert.Empty(_h.Jobs.Jobs);
        Assert.DoesNotContain(await _h.AuditAsync(slot.Id), a => a.Action == AuditActions.Sleep);
    }

    [Fact]
    public async Task Sleep_BySomeoneElsesDeveloper_IsForbidden_ButQaMay()
    {
        var (slot, hold) = await ClaimedAsync("qa-1");

        var refused = await _h.Idle.SleepAsync(TestUsers.Devon, slot.Id, hold.Id);
        Assert.Equal(FailureKind.Forbidden, refused.Failure?.Kind);
        Assert.Null((await HoldOnBoardAsync(slot.Id)).SleepingSince);
        Assert.Empty(_h.Jobs.Jobs);

        var byQa = await _h.Idle.SleepAsync(TestUsers.Quinn, slot.Id, hold.Id);
        Assert.True(byQa.Succeeded, byQa.Failure?.Message);
    }

    [Fact]
    public async Task Wake_ByAnyDeveloper_RestoresIt_ButAViewerCannot()
    {
        var (slot, hold) = await ClaimedAsync("qa-1");
        Assert.True((await _h.Idle.SleepAsync(TestUsers.Dana, slot.Id, hold.Id)).Succeeded);

        Assert.Equal(FailureKind.Forbidden, (await _h.Idle.WakeAsync(TestUsers.Viewer, slot.Id, hold.Id)).Failure?.Kind);
        Assert.NotNull((await HoldOnBoardAsync(slot.Id)).SleepingSince);

        _h.Clock.Advance(TimeSpan.FromMinutes(5));
        var woken = await _h.Idle.WakeAsync(TestUsers.Devon, slot.Id, hold.Id);

        Assert.True(woken.Value);
        var now = await HoldOnBoardAsync(slot.Id);
        Assert.Null(now.SleepingSince);
        Assert.Equal(Now, now.LastActivityAt);
        Assert.Single(_h.Jobs.Jobs, j => j.Method.Name == nameof(SlotSleepJob.WakeAsync));
        Assert.False((await _h.Idle.WakeAsync(TestUsers.Devon, slot.Id, hold.Id)).Value); // already awake: nothing queued
    }

    [Fact]
    public async Task Deploy_IntoASleepingSlot_WakesIt()
    {
        var (slot, hold) = await ClaimedAsync("qa-1");
        Assert.True((await _h.Idle.SleepAsync(TestUsers.Dana, slot.Id, hold.Id)).Succeeded);

        await _h.Idle.OnDeployAsync(slot.Id);

        Assert.Null((await HoldOnBoardAsync(slot.Id)).SleepingSince);
        Assert.Single(_h.Jobs.Jobs, j => j.Method.Name == nameof(SlotSleepJob.WakeAsync));
    }

    [Fact]
    public async Task SleepIdle_LosesToActivitySinceTheCutOff_AndDoesNothingWhenSleepIsTurnedOff()
    {
        var (slot, hold) = await ClaimedAsync("qa-1");
        _h.Clock.Advance(TimeSpan.FromMinutes(40));
        var cutOff = Now - TimeSpan.FromMinutes(30);
        await _h.Idle.TouchAsync(slot.Id); // someone opened the slot's page a moment before the sleep job's update

        Assert.False(await _h.Idle.SleepIdleAsync(hold.Id, cutOff));
        Assert.Null((await HoldOnBoardAsync(slot.Id)).SleepingSince);

        _h.Clock.Advance(TimeSpan.FromMinutes(31));
        _h.IdleOptions.CurrentValue.AllowSleep = false;
        Assert.False(await _h.Idle.SleepIdleAsync(hold.Id, Now - TimeSpan.FromMinutes(30)));
        _h.IdleOptions.CurrentValue.AllowSleep = true;
        Assert.True(await _h.Idle.SleepIdleAsync(hold.Id, Now - TimeSpan.FromMinutes(30)));
        Assert.False(await _h.Idle.SleepIdleAsync(hold.Id, Now - TimeSpan.FromMinutes(30))); // twice: asleep once
        Assert.Equal(Now, (await HoldOnBoardAsync(slot.Id)).SleepingSince);
        Assert.Single(_h.Jobs.Jobs, j => j.Method.Name == nameof(SlotSleepJob.SleepAsync));
    }
}
