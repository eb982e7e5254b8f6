using DeployPortal.Web.Audit;
using DeployPortal.Web.Common;
using DeployPortal.Web.Data;
using DeployPortal.Web.Notifications;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;

namespace DeployPortal.Web.Tests.Slots;

public sealed class SqliteIdleGiveBackTests() : IdleGiveBackTests(DatabaseProvider.Sqlite);

public sealed class PostgresIdleGiveBackTests() : IdleGiveBackTests(DatabaseProvider.Postgres);

/// <summary>
/// Forgotten slots given back: the question to the idle holder, "keep it", the end through the expiry path, and the
/// faster question when someone waits. Real services and database, a fake clock, the job run by hand.
/// </summary>
public abstract class IdleGiveBackTests(DatabaseProvider provider) : IAsyncLifetime
{
    private WaitlistHarness _w = default!;
    private SlotHarness H => _w.Slots;
    private IdleOptions Options => H.IdleOptions.CurrentValue;

    public async Task InitializeAsync() => _w = await WaitlistHarness.CreateAsync(provider);

    public async Task DisposeAsync() => await _w.DisposeAsync();

    private DateTime Now => H.Clock.GetUtcNow().UtcDateTime;

    private async Task<(Slot Slot, HoldView Hold)> ClaimedAsync(string name, System.Security.Claims.ClaimsPrincipal? user = null)
    {
        var slot = await H.AddSlotAsync(name);
        var claim = await H.Actions.ClaimAsync(user ?? TestUsers.Dana, new ClaimRequest(slot.Id, "checkout test", null));
        Assert.True(claim.Succeeded, claim.Failure?.Message);
        return (slot, claim.Value!);
    }

    private async Task<Hold> HoldAsync(long id)
    {
        await using var db = H.Database.Factory.CreateDbContext();
        return await db.Holds.AsNoTracking().SingleAsync(h => h.Id == id);
    }

    [Fact]
    public void Defaults_AreOn()
    {
        Assert.NotNull(new IdleOptions().ReleaseAfter);
        Assert.True(new IdleOptions().AskWhenQueuedAfter < new IdleOptions().ReleaseAfter);
        Assert.True(new IdleOptions().AnswerWithinWhenQueued < new IdleOptions().AnswerWithin);
    }

    [Fact]
    public void ReleaseAfter_SetToEmptyInConfiguration_TurnsGivingBackOff()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Idle:ReleaseAfter"] = "" }).Build();

        Assert.Null(configuration.GetSection(IdleOptions.Section).Get<IdleOptions>()!.ReleaseAfter);
    }

    [Fact]
    public void AppTrafficRead_IsNotASetting_TheWithAppTrafficTimesAre()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Idle:AppTrafficRead"] = "true",
            ["Idle:WithAppTraffic:AnswerWithinWhenQueued"] = "00:03:00",
        }).Build();

        var bound = configuration.GetSection(IdleOptions.Section).Get<IdleOptions>()!;

        Assert.False(bound.AppTrafficRead);
        Assert.Equal(TimeSpan.FromMinutes(3), bound.WithAppTraffic.AnswerWithinWhenQueued);
        Assert.Equal(new IdleOptions().WithAppTraffic.ReleaseAfter, bound.WithAppTraffic.ReleaseAfter);
        Assert.Equal(bound.ReleaseAfter, bound.GiveBack!.ReleaseAfter); // without app traffic, the top-level times
        bound.AppTrafficRead = true;
        Assert.Same(bound.WithAppTraffic, bound.GiveBack);
    }

    [Fact]
    public async Task IdleHold_IsAskedAfterReleaseAfter_AndGivenBackThroughTheExpiryPathWithoutAnAnswer()
    {
        var (slot, claimed) = await ClaimedAsync("qa-1");
        H.Clock.Advance(Options.ReleaseAfter!.Value - TimeSpan.FromMinutes(1));
        Assert.Equal(0, await H.GiveBack.RunAsync());
        Assert.Null((await HoldAsync(claimed.Id)).KeepDeadline); // not idle long enough: not asked

        H.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, await H.GiveBack.RunAsync());
        var asked = await HoldAsync(claimed.Id);
        Assert.Equal(Now + Options.AnswerWithin, asked.KeepDeadline);
        Assert.Null(asked.KeepWaiterName);
        var question = Assert.Single(H.Events.Of(PortalEventKind.HoldExpiring));
        Assert.Contains($"has been idle {TimeText.Duration(Options.ReleaseAfter.Value)}", question.Text);
        Assert.Equal(Options.AnswerWithin, (await H.Board.GetBoardAsync()).Single().Hold!.KeepDeadline - Now); // the board shows the question

        Assert.Equal(0, await H.GiveBack.RunAsync()); // a second run (another replica) asks nothing more
        Assert.Single(H.Events.Of(PortalEventKind.HoldExpiring));
        Assert.Single(await H.AuditAsync(slot.Id), a => a.Action == AuditActions.IdleAsk);

        H.Clock.Advance(Options.AnswerWithin - TimeSpan.FromMinutes(1));
        Assert.Equal(0, await H.GiveBack.RunAsync());
        Assert.Null((await HoldAsync(claimed.Id)).ReleasedAt);

        H.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await H.GiveBack.RunAsync());
        Assert.Equal(0, await H.GiveBack.RunAsync());
        var ended = await HoldAsync(claimed.Id);
        Assert.Equal(ReleaseReason.Expired, ended.ReleaseReason);
        Assert.Equal(Now, ended.ReleasedAt);
        Assert.Equal(claimed.Until, ended.GivenBackUntil); // the end it had, for the hours reclaimed on Insights
        Assert.Equal(Now, ended.Until);
        Assert.Contains(await H.AuditAsync(slot.Id), a => a.Action == AuditActions.IdleEnd);
        Assert.Single(H.Events.Of(PortalEventKind.HoldExpired));
    }

    [Fact]
    public async Task KeepIt_WithdrawsTheQuestion_AndTheHoldStays_UntilItIsIdleAgain()
    {
        var (slot, claimed) = await ClaimedAsync("qa-1");
        H.Clock.Advance(Options.ReleaseAfter!.Value);
        await H.GiveBack.RunAsync();
        H.Clock.Advance(TimeSpan.FromMinutes(5));

        var kept = await H.GiveBack.KeepAsync(TestUsers.Dana, slot.Id, claimed.Id);

        Assert.True(kept.Succeeded, kept.Failure?.Message);
        Assert.Null(kept.Value!.KeepDeadline);
        Assert.Equal(Now, kept.Value.LastActivityAt);
        Assert.Single(await H.AuditAsync(slot.Id), a => a.Action == AuditActions.Keep);
        H.Clock.Advance(Options.AnswerWithin);
        Assert.Equal(0, await H.GiveBack.RunAsync());
        Assert.Null((await HoldAsync(claimed.Id)).ReleasedAt);

        H.Clock.Advance(Options.ReleaseAfter.Value - Options.AnswerWithin);
        await H.GiveBack.RunAsync();
        Assert.NotNull((await HoldAsync(claimed.Id)).KeepDeadline); // idle again: asked again
    }

    [Fact]
    public async Task ActivityAfterTheQuestion_AnswersIt()
    {
        var (slot, claimed) = await ClaimedAsync("qa-1");
        H.Clock.Advance(Options.ReleaseAfter!.Value);
        await H.GiveBack.RunAsync();
        H.Clock.Advance(TimeSpan.FromMinutes(2));

        await H.Idle.TouchAsync(slot.Id); // someone opened the slot's page or logs
        H.Clock.Advance(Options.AnswerWithin);

        Assert.Equal(0, await H.GiveBack.RunAsync());
        var hold = await HoldAsync(claimed.Id);
        Assert.Null(hold.ReleasedAt);
        Assert.Null(hold.KeepDeadline);
    }

    [Fact]
    public async Task Keep_BySomeoneElse_IsForbidden_ButAnAdminMay_AndAfterTheEndItIsTooLate()
    {
        var (slot, claimed) = await ClaimedAsync("qa-1");
        H.Clock.Advance(Options.ReleaseAfter!.Value);
        await H.GiveBack.RunAsync();

        Assert.Equal(FailureKind.Forbidden, (await H.GiveBack.KeepAsync(TestUsers.Devon, slot.Id, claimed.Id)).Failure?.Kind);
        Assert.Equal(FailureKind.Forbidden, (await H.GiveBack.KeepAsync(TestUsers.Viewer, slot.Id, claimed.Id)).Failure?.Kind);
        Assert.NotNull((await HoldAsync(claimed.Id)).KeepDeadline);
        Assert.True((await H.GiveBack.KeepAsync(TestUsers.Ada, slot.Id, claimed.Id)).Succeeded);

        H.Clock.Advance(Options.ReleaseAfter.Value);
        await H.GiveBack.RunAsync();
        H.Clock.Advance(Options.AnswerWithin);
        await H.GiveBack.RunAsync();
        Assert.Equal(FailureKind.Conflict, (await H.GiveBack.KeepAsync(TestUsers.Dana, slot.Id, claimed.Id)).Failure?.Kind);
    }

    [Fact]
    public async Task SomeoneWaiting_IdleHolderIsAskedAtOnce_NamingThem_AndTheSlotGoesToThemAfterTheShortDeadline()
    {
        var (slot, claimed) = await ClaimedAsync("qa-1");
        H.Clock.Advance(Options.AskWhenQueuedAfter);
        Assert.Equal(0, await H.GiveBack.RunAsync());
        Assert.Null((await HoldAsync(claimed.Id)).KeepDeadline); // idle that long, but nobody waits: not asked yet

        Assert.True((await _w.JoinAsync(TestUsers.Devon, null)).Succeeded);
        await H.GiveBack.RunAsync();

        var asked = await HoldAsync(claimed.Id);
        Assert.Equal(Now + Options.AnswerWithinWhenQueued, asked.KeepDeadline);
        Assert.Equal("Devon Developer", asked.KeepWaiterName);
        Assert.StartsWith("Devon Developer is waiting; your hold on qa-1", Assert.Single(H.Events.Of(PortalEventKind.HoldExpiring)).Text);

        H.Clock.Advance(Options.AnswerWithinWhenQueued);
        Assert.Equal(1, await H.GiveBack.RunAsync());
        var served = Assert.Single(await _w.ActiveHoldsAsync());
        Assert.Equal("devon", served.HolderId);
        Assert.Equal(slot.Id, served.SlotId);
    }

    [Fact]
    public async Task AskedWhileNobodyWaited_ThenSomeoneJoins_TheDeadlineComesCloser()
    {
        var (_, claimed) = await ClaimedAsync("qa-1");
        H.Clock.Advance(Options.ReleaseAfter!.Value);
        await H.GiveBack.RunAsync();
        Assert.Equal(Now + Options.AnswerWithin, (await HoldAsync(claimed.Id)).KeepDeadline);

        H.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await _w.JoinAsync(TestUsers.Devon, null)).Succeeded);
        await H.GiveBack.RunAsync();

        var asked = await HoldAsync(claimed.Id);
        Assert.Equal(Now + Options.AnswerWithinWhenQueued, asked.KeepDeadline);
        Assert.Equal("Devon Developer", asked.KeepWaiterName);
        Assert.Equal(2, H.Events.Of(PortalEventKind.HoldExpiring).Count);
    }

    [Fact]
    public async Task TheHolderWaitingForAnotherSlot_DoesNotCountAsSomeoneWaiting()
    {
        var (_, claimed) = await ClaimedAsync("qa-1");
        Assert.True((await _w.JoinAsync(TestUsers.Dana, null, app: "payments")).Succeeded);
        H.Clock.Advance(Options.AskWhenQueuedAfter);

        await H.GiveBack.RunAsync();

        Assert.Null((await HoldAsync(claimed.Id)).KeepDeadline);
    }

    [Fact]
    public async Task WithAppTrafficRead_TheWithAppTrafficTimesApply()
    {
        Options.AppTrafficRead = true;
        Options.WithAppTraffic = new() { ReleaseAfter = TimeSpan.FromMinutes(20), AnswerWithin = TimeSpan.FromMinutes(7), AskWhenQueuedAfter = TimeSpan.FromMinutes(10), AnswerWithinWhenQueued = TimeSpan.FromMinutes(4) };
        var (_, claimed) = await ClaimedAsync("qa-1");
        H.Clock.Advance(TimeSpan.FromMinutes(19));
        await H.GiveBack.RunAsync();
        Assert.Null((await HoldAsync(claimed.Id)).KeepDeadline);

        H.Clock.Advance(TimeSpan.FromMinutes(1));
        await H.GiveBack.RunAsync();
        Assert.Equal(Now + TimeSpan.FromMinutes(7), (await HoldAsync(claimed.Id)).KeepDeadline);

        Assert.True((await _w.JoinAsync(TestUsers.Devon, null)).Succeeded);
        await H.GiveBack.RunAsync();
        Assert.Equal(Now + TimeSpan.FromMinutes(4), (await HoldAsync(claimed.Id)).KeepDeadline);
    }

    [Fact]
    public async Task WithAppTrafficRead_ReleaseAfterEmpty_StillTurnsGivingBackOff()
    {
        (Options.AppTrafficRead, Options.ReleaseAfter) = (true, null);
        var (_, claimed) = await ClaimedAsync("qa-1");
        H.Clock.Advance(TimeSpan.FromHours(3));

        Assert.Equal(0, await H.GiveBack.RunAsync());
        Assert.Null((await HoldAsync(claimed.Id)).KeepDeadline);
    }

    [Fact]
    public async Task TurnedOff_NothingIsAskedOrEnded()
    {
        Options.ReleaseAfter = null;
        var (_, claimed) = await ClaimedAsync("qa-1");
        H.Clock.Advance(TimeSpan.FromHours(3));

        Assert.Equal(0, await H.GiveBack.RunAsync());

        var hold = await HoldAsync(claimed.Id);
        Assert.Null(hold.KeepDeadline);
        Assert.Null(hold.ReleasedAt);
    }
}
