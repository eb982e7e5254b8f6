using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Deployments;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Slots;

public sealed class SqliteHoldCapTests() : HoldCapTests(DatabaseProvider.Sqlite);

public sealed class PostgresHoldCapTests() : HoldCapTests(DatabaseProvider.Postgres);

/// <summary>Fair use: a cap on the slots one person holds at once, per person and per role, admins exempt.</summary>
public abstract class HoldCapTests(DatabaseProvider provider) : IAsyncLifetime
{
    private WaitlistHarness _w = default!;
    private SlotHarness H => _w.Slots;

    public async Task InitializeAsync() => _w = await WaitlistHarness.CreateAsync(provider);

    public async Task DisposeAsync() => await _w.DisposeAsync();

    private Task<Result<HoldView>> ClaimAsync(System.Security.Claims.ClaimsPrincipal user, Slot slot) =>
        H.Actions.ClaimAsync(user, new ClaimRequest(slot.Id, "checkout test", null));

    [Fact]
    public async Task Claim_AtThePersonalCap_IsRefused_OfferingTheSlotHeld_AndChangesNothing()
    {
        H.Options.CurrentValue.MaxHeldPerPerson = 1;
        var qa1 = await H.AddSlotAsync("qa-1");
        var qa2 = await H.AddSlotAsync("qa-2");
        Assert.True((await ClaimAsync(TestUsers.Dana, qa1)).Succeeded);

        var refused = await ClaimAsync(TestUsers.Dana, qa2);

        Assert.Equal(FailureKind.Conflict, refused.Failure?.Kind);
        Assert.StartsWith("You hold qa-1 already — deploy there?", refused.Failure!.Message);
        Assert.Empty(await H.HoldsAsync(qa2.Id));
        Assert.True((await ClaimAsync(TestUsers.Dana, qa1)).Succeeded); // claiming the slot held again is a double click, not a second hold
        Assert.True((await ClaimAsync(TestUsers.Devon, qa2)).Succeeded); // the cap is per person
    }

    [Fact]
    public async Task Claim_AfterReleasingOrExpiry_IsAllowedAgain()
    {
        H.Options.CurrentValue.MaxHeldPerPerson = 1;
        var qa1 = await H.AddSlotAsync("qa-1");
        var qa2 = await H.AddSlotAsync("qa-2");
        var held = (await ClaimAsync(TestUsers.Dana, qa1)).Value!;
        H.Clock.Advance(held.Until - held.Since); // past its end, not yet released by the job: it no longer counts

        Assert.True((await ClaimAsync(TestUsers.Dana, qa2)).Succeeded);
    }

    [Fact]
    public async Task DeployIntoAFreeSlot_AtTheCap_IsRefusedTheSameWay_ButDeployingIntoTheSlotHeldIsFine()
    {
        H.Options.CurrentValue.MaxHeldPerPerson = 1;
        var qa1 = await H.AddSlotAsync("qa-1");
        var qa2 = await H.AddSlotAsync("qa-2");
        Assert.True((await ClaimAsync(TestUsers.Dana, qa1)).Succeeded);

        var refused = await _w.Deployments.CreateAsync(TestUsers.Dana, new DeployRequest("storefront", "main", qa2.Id, "checkout test"));
        var there = await _w.Deployments.CreateAsync(TestUsers.Dana, new DeployRequest("storefront", "main", qa1.Id));

        Assert.StartsWith("You hold qa-1 already — deploy there?", refused.Failure?.Message);
        Assert.Empty(await H.HoldsAsync(qa2.Id));
        Assert.True(there.Succeeded, there.Failure?.Message);
    }

    [Fact]
    public async Task RoleCap_ReplacesThePersonalOne_AndAdminsAreExempt()
    {
        H.Options.CurrentValue.MaxHeldPerPerson = 1;
        H.Options.CurrentValue.MaxHeldPerRole = new() { ["QA"] = 2 };
        var slots = new List<Slot>();
        for (var i = 1; i <= 4; i++)
        {
            slots.Add(await H.AddSlotAsync($"qa-{i}"));
        }

        Assert.True((await ClaimAsync(TestUsers.Quinn, slots[0])).Succeeded);
        Assert.True((await ClaimAsync(TestUsers.Quinn, slots[1])).Succeeded);
        var refused = await ClaimAsync(TestUsers.Quinn, slots[2]);
        Assert.StartsWith("You hold qa-1 and qa-2 already — deploy there? At most 2 slots per person", refused.Failure?.Message);

        Assert.True((await ClaimAsync(TestUsers.Ada, slots[2])).Succeeded);
        Assert.True((await ClaimAsync(TestUsers.Ada, slots[3])).Succeeded);
    }

    [Fact]
    public async Task NoCap_ByDefault()
    {
        Assert.Null(new HoldOptions().MaxHeldPerPerson);
        var qa1 = await H.AddSlotAsync("qa-1");
        var qa2 = await H.AddSlotAsync("qa-2");

        Assert.True((await ClaimAsync(TestUsers.Dana, qa1)).Succeeded);
        Assert.True((await ClaimAsync(TestUsers.Dana, qa2)).Succeeded);
    }
}
