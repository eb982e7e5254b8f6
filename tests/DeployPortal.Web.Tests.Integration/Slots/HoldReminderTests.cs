using DeployPortal.Web.Audit;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Slots;

public sealed class SqliteHoldReminderTests() : HoldReminderTests(DatabaseProvider.Sqlite);

public sealed class PostgresHoldReminderTests() : HoldReminderTests(DatabaseProvider.Postgres);

/// <summary>Reminders before expiry, expiry notices, renew-on-deploy and the hard maximum, on the fake clock.</summary>
public abstract class HoldReminderTests(DatabaseProvider provider) : IAsyncLifetime
{
    private WaitlistHarness _h = default!;
    private SlotHarness S => _h.Slots;

    public async Task InitializeAsync() => _h = await WaitlistHarness.CreateAsync(provider);

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task ExpiryJob_RemindsOnceWithinRemindBefore_AgainAfterAnExtension_AndRaisesExpiredOnce()
    {
        var slot = await S.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, TimeSpan.FromHours(4));

        S.Clock.Advance(TimeSpan.FromHours(3) + TimeSpan.FromMinutes(29));
        await S.ExpiryJob.RunAsync(default);
        Assert.Empty(S.Events.Of(PortalEventKind.HoldExpiring));

        S.Clock.Advance(TimeSpan.FromMinutes(2)); // 29 min left, inside the 30 min window
        await Task.WhenAll(S.ExpiryJob.RunAsync(default), S.ExpiryJob.RunAsync(default));
        await S.ExpiryJob.RunAsync(default);
        var reminder = Assert.Single(S.Events.Of(PortalEventKind.HoldExpiring));
        Assert.Equal("qa-1", reminder.Slot);
        Assert.StartsWith("Your hold on qa-1 (holding) ends in 29 min", reminder.Text);
        Assert.Equal(hold.Until, Assert.Single(await S.HoldsAsync(slot.Id)).RemindedFor);

        // Extending moves the end away from the reminded one: the next approach reminds again.
        Assert.True((await S.Actions.ExtendAsync(TestUsers.Dana, slot.Id, hold.Id, TimeSpan.FromHours(1))).Succeeded);
        await S.ExpiryJob.RunAsync(default);
        Assert.Single(S.Events.Of(PortalEventKind.HoldExpiring));
        S.Clock.Advance(TimeSpan.FromHours(1));
        await S.ExpiryJob.RunAsync(default);
        Assert.Equal(2, S.Events.Of(PortalEventKind.HoldExpiring).Count);

        S.Clock.Advance(TimeSpan.FromMinutes(30));
        await Task.WhenAll(S.ExpiryJob.RunAsync(default), S.ExpiryJob.RunAsync(default));
        var expired = Assert.Single(S.Events.Of(PortalEventKind.HoldExpired));
        Assert.StartsWith("Dana Developer's hold on qa-1 (holding) ran out at", expired.Text);
        Assert.Equal(2, (await S.AuditAsync(slot.Id)).Count(a => a.Action == AuditActions.Remind));
    }

    [Fact]
    public async Task Claim_OverAnEndedHold_RaisesExpiredForItsHolder()
    {
        var slot = await S.AddSlotAsync("qa-1");
        await ClaimAsync(TestUsers.Dana, slot, TimeSpan.FromHours(1));
        S.Clock.Advance(TimeSpan.FromHours(2));

        await ClaimAsync(TestUsers.Devon, slot, null);

        Assert.Single(S.Events.Of(PortalEventKind.HoldExpired));
    }

    [Fact]
    public async Task Extend_PastTheHardMaximum_IsRefusedWithTheLatestEnd_UpToItIsAllowed()
    {
        S.Options.CurrentValue = new HoldOptions { MaxDuration = TimeSpan.FromHours(24), HardMaxTotal = TimeSpan.FromHours(30) };
        var slot = await S.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, TimeSpan.FromHours(24));
        S.Clock.Advance(TimeSpan.FromHours(20));

        var tooFar = await S.Actions.ExtendAsync(TestUsers.Dana, slot.Id, hold.Id, TimeSpan.FromHours(8));
        Assert.Equal(FailureKind.Invalid, tooFar.Failure?.Kind);
        Assert.Equal($"A hold can last at most 1 d 6 h in total, so your hold on qa-1 must end by {hold.Since.AddHours(30):u}; 6 h more is the most you can add.", tooFar.Failure!.Message);

        Assert.True((await S.Actions.ExtendAsync(TestUsers.Dana, slot.Id, hold.Id, TimeSpan.FromHours(6))).Succeeded);
        var atLimit = await S.Actions.ExtendAsync(TestUsers.Dana, slot.Id, hold.Id, TimeSpan.FromHours(1));
        Assert.Contains("it cannot be extended any further", atLimit.Failure!.Message);
        Assert.Equal(hold.Since.AddHours(30), Assert.Single(await S.HoldsAsync(slot.Id)).Until);
    }

    [Fact]
    public async Task Deploy_IntoAHeldSlot_RenewsTheHoldToTheDefaultLength_ButNotPastTheHardMaximum()
    {
        S.Options.CurrentValue = new HoldOptions { DefaultDuration = TimeSpan.FromHours(4), HardMaxTotal = TimeSpan.FromHours(29) };
        var slot = await S.AddSlotAsync("qa-1");
        var hold = await ClaimAsync(TestUsers.Dana, slot, TimeSpan.FromHours(4));
        S.Clock.Advance(TimeSpan.FromHours(3));

        await DeployAsync(slot);
        Assert.Equal(hold.Since.AddHours(7), Assert.Single(await S.HoldsAsync(slot.Id)).Until); // 4 h from the deploy
        Assert.Contains(await S.AuditAsync(slot.Id), a => a.Action == AuditActions.Renew);

        // A renewal never shortens a hold that ends later anyway.
        Assert.True((await S.Actions.ExtendAsync(TestUsers.Dana, slot.Id, hold.Id, TimeSpan.FromHours(20))).Succeeded);
        await DeployAsync(slot);
        Assert.Equal(hold.Since.AddHours(27), Assert.Single(await S.HoldsAsync(slot.Id)).Until);

        // Near the hard maximum, a renewal stops at it.
        S.Clock.Advance(TimeSpan.FromHours(23));
        await DeployAsync(slot);
        Assert.Equal(hold.Since.AddHours(29), Assert.Single(await S.HoldsAsync(slot.Id)).Until);
        Assert.Contains("(its 1 d 5 h limit)", (await S.AuditAsync(slot.Id)).Last(a => a.Action == AuditActions.Renew).Details);

        S.Options.CurrentValue = new HoldOptions { RenewOnDeploy = false };
        var before = Assert.Single(await S.HoldsAsync(slot.Id)).Until;
        S.Clock.Advance(TimeSpan.FromHours(1));
        await DeployAsync(slot);
        Assert.Equal(before, Assert.Single(await S.HoldsAsync(slot.Id)).Until);
    }

    private async Task DeployAsync(Slot slot)
    {
        var result = await _h.Deployments.CreateAsync(TestUsers.Dana, new DeployRequest("storefront", "main", slot.Id));
        Assert.True(result.Succeeded, result.Failure?.Message);
    }

    private async Task<Hold> ClaimAsync(System.Security.Claims.ClaimsPrincipal user, Slot slot, TimeSpan? duration)
    {
        var result = await S.Actions.ClaimAsync(user, new ClaimRequest(slot.Id, "holding", duration));
        Assert.True(result.Succeeded, result.Failure?.Message);
        return (await S.HoldsAsync(slot.Id)).Single(h => h.ReleasedAt is null);
    }
}
