using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using DeployPortal.Web.Waitlist;

namespace DeployPortal.Web.Tests.Waitlist;

public sealed class SqliteQueueHoldLengthTests() : QueueHoldLengthTests(DatabaseProvider.Sqlite);

public sealed class PostgresQueueHoldLengthTests() : QueueHoldLengthTests(DatabaseProvider.Postgres);

/// <summary>A queued request chooses how long it holds the slot it is handed.</summary>
public abstract class QueueHoldLengthTests(DatabaseProvider provider) : IAsyncLifetime
{
    private WaitlistHarness _h = default!;

    public async Task InitializeAsync() => _h = await WaitlistHarness.CreateAsync(provider);

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private Task<Result<QueueEntryView>> JoinAsync(TimeSpan? holdFor) =>
        _h.Waitlist.JoinAsync(TestUsers.Devon, new JoinQueueRequest("storefront", "main", "login test", null, holdFor));

    [Fact]
    public async Task Served_HoldsTheSlotForTheLengthChosenWhenJoining()
    {
        var slot = await _h.Slots.AddSlotAsync("qa-1");
        var held = (await _h.Slots.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "soak test", null))).Value!;
        var joined = await JoinAsync(TimeSpan.FromHours(1));
        Assert.Equal(TimeSpan.FromHours(1), joined.Value?.HoldFor);

        await _h.Slots.Actions.ReleaseAsync(TestUsers.Dana, new ReleaseRequest(slot.Id, held.Id));

        var hold = Assert.Single(await _h.ActiveHoldsAsync());
        Assert.Equal(("devon", TimeSpan.FromHours(1)), (hold.HolderId, hold.Until - hold.Since));
    }

    [Fact]
    public async Task Served_WithoutAChoice_HoldsForTheDefault_AndAChoiceBeyondTodaysMaximumIsCut()
    {
        var qa1 = await _h.Slots.AddSlotAsync("qa-1");
        var served = await JoinAsync(null);
        Assert.Equal(WaitlistState.Served, served.Value?.State);
        var first = Assert.Single(await _h.ActiveHoldsAsync());
        Assert.Equal((qa1.Id, _h.Slots.Options.CurrentValue.DefaultDuration), (first.SlotId, first.Until - first.Since));

        var qa2 = await _h.Slots.AddSlotAsync("qa-2");
        var held = (await _h.Slots.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(qa2.Id, "soak test", null))).Value!;
        var waiting = await _h.Waitlist.JoinAsync(TestUsers.Quinn, new JoinQueueRequest("payments", "main", "regression", qa2.Id, TimeSpan.FromHours(8)));
        Assert.Equal(WaitlistState.Waiting, waiting.Value?.State);
        _h.Slots.Options.CurrentValue.MaxDuration = TimeSpan.FromHours(6); // an admin lowered the maximum meanwhile
        await _h.Slots.Actions.ReleaseAsync(TestUsers.Dana, new ReleaseRequest(qa2.Id, held.Id));

        var hold = (await _h.ActiveHoldsAsync()).Single(x => x.SlotId == qa2.Id);
        Assert.Equal(("quinn", TimeSpan.FromHours(6)), (hold.HolderId, hold.Until - hold.Since));
    }

    [Fact]
    public async Task Join_WithAHoldLongerThanTheMaximum_IsInvalid_AndNothingIsQueued()
    {
        await _h.Slots.AddSlotAsync("qa-1");

        var refused = await JoinAsync(TimeSpan.FromDays(2));

        Assert.Equal(FailureKind.Invalid, refused.Failure?.Kind);
        Assert.Empty(await _h.EntriesAsync());
    }
}
