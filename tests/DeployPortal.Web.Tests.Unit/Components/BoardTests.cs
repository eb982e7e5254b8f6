using System.Data.Common;
using AngleSharp.Dom;
using Bunit;
using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace DeployPortal.Web.Tests.Components;

public sealed class BoardTests : PortalComponentTest
{
    [Fact]
    public async Task Board_WithoutSlots_ShowsTheEmptyState_WithAdviceForTheRole()
    {
        SignInAs(TestUsers.Dana);
        var cut = Render<Board>();
        cut.WaitForAssertion(() => Assert.Contains("No test slots yet", cut.Find("[data-testid=board-empty]").TextContent));
        Assert.Contains("An admin has not added", cut.Markup);
        Assert.Empty(cut.FindAll("[data-testid=add-slot]"));

        await DisposeComponentsAsync();
        SignInAs(TestUsers.Ada);
        var asAdmin = Render<Board>();
        asAdmin.WaitForAssertion(() => Assert.Single(asAdmin.FindAll("[data-testid=add-slot]")));
        Assert.Contains("Add the first slot", asAdmin.Markup);
    }

    [Fact]
    public async Task Board_WhileTheDatabaseIsSlow_ShowsLoading_ThenTheSlots()
    {
        var gate = new ConnectionGate();
        PageDatabase = new DataExtensions.PortalDbFactory<SqlitePortalDb>(new PooledDbContextFactory<SqlitePortalDb>(
            new DbContextOptionsBuilder<SqlitePortalDb>().UseSqlite(Harness.Database.ConnectionString).AddInterceptors(gate).Options));
        SignInAs(TestUsers.Dana);
        await Harness.AddSlotAsync("qa-1");

        var cut = Render<Board>();
        Assert.Single(cut.FindAll("[data-testid=board-loading]"));

        gate.Open();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=slot-qa-1]")), TimeSpan.FromSeconds(15)); // a first EF model build can be slow on a busy machine
        Assert.Empty(cut.FindAll("[data-testid=board-loading]"));
    }

    [Fact]
    public void Board_WhenTheDatabaseFails_ShowsAnErrorWithRetry()
    {
        PageDatabase = new FailingFactory();
        SignInAs(TestUsers.Dana);

        var cut = Render<Board>();

        cut.WaitForAssertion(() => Assert.Contains("could not be loaded", cut.Find("[data-testid=board-error]").TextContent));
        Assert.Contains("Try again", cut.Find("[data-testid=board-error]").TextContent);
    }

    [Fact]
    public async Task Board_HeldSlot_ShowsHolderPurposeAndTimeLeft()
    {
        var slot = await Harness.AddSlotAsync("qa-2");
        await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", TimeSpan.FromHours(2)));
        SignInAs(TestUsers.Viewer);

        var cut = Render<Board>();

        var card = cut.WaitForElement("[data-testid=slot-qa-2]");
        Assert.Equal("Dana Developer", card.QuerySelector("[data-testid=slot-holder]")!.TextContent);
        Assert.Equal("payment test", card.QuerySelector("[data-testid=slot-purpose]")!.TextContent);
        Assert.Contains("expires in 2 h", card.QuerySelector("[data-testid=slot-until]")!.TextContent);
        Assert.Equal("Held", card.GetAttribute("data-state"));
    }

    [Theory]
    [InlineData("viewer", new string[0])]
    [InlineData("holder", new[] { "extend", "release" })]
    [InlineData("other-developer", new string[0])]
    [InlineData("qa", new[] { "qa-release" })]
    [InlineData("admin", new[] { "qa-release", "force-release" })]
    public async Task Board_HeldSlot_OffersOnlyTheActionsTheRoleMayTake(string who, string[] expected)
    {
        var slot = await Harness.AddSlotAsync("qa-1");
        await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null));
        SignInAs(who switch
        {
            "viewer" => TestUsers.Viewer,
            "holder" => TestUsers.Dana,
            "other-developer" => TestUsers.Devon,
            "qa" => TestUsers.Quinn,
            _ => TestUsers.Ada,
        });

        var cut = Render<Board>();

        var card = cut.WaitForElement("[data-testid=slot-qa-1]");
        Assert.Equal(expected.Order(), ActionsOf(card).Order());
    }

    [Theory]
    [InlineData("viewer", false)]
    [InlineData("developer", true)]
    public async Task Board_FreeSlot_OffersClaimOnlyToRolesThatMayHold(string who, bool canClaim)
    {
        await Harness.AddSlotAsync("qa-1");
        SignInAs(who == "viewer" ? TestUsers.Viewer : TestUsers.Devon);

        var cut = Render<Board>();

        var card = cut.WaitForElement("[data-testid=slot-qa-1]");
        Assert.Equal(canClaim, ActionsOf(card).Contains("claim"));
        Assert.Equal("Free", card.GetAttribute("data-state"));
    }

    [Fact]
    public async Task Board_ClaimMadeElsewhere_AppearsWithoutReload_AndUnsubscribesOnDispose()
    {
        var slot = await Harness.AddSlotAsync("qa-3");
        SignInAs(TestUsers.Quinn);
        var cut = Render<Board>();
        cut.WaitForAssertion(() => Assert.Equal("Free", cut.Find("[data-testid=slot-qa-3]").GetAttribute("data-state")));
        cut.WaitForAssertion(() => Assert.Equal(1, Harness.Notifier.SubscriberCount)); // the board, which passes changes on to its queue panel

        await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "login test", null));

        cut.WaitForAssertion(() => Assert.Equal("Held", cut.Find("[data-testid=slot-qa-3]").GetAttribute("data-state")));
        Assert.Contains("login test", cut.Find("[data-testid=slot-qa-3]").TextContent);

        await DisposeComponentsAsync();
        Assert.Equal(0, Harness.Notifier.SubscriberCount);
    }

    [Fact]
    public async Task Board_ChangeToACardWithButtons_RendersOnlyThatCard()
    {
        var slots = new List<Slot>();
        foreach (var name in new[] { "qa-1", "qa-2", "qa-3" })
        {
            slots.Add(await Harness.AddSlotAsync(name));
        }

        var mine = await Harness.Actions.ClaimAsync(TestUsers.Devon, new ClaimRequest(slots[1].Id, "login test", TimeSpan.FromHours(2)));
        SignInAs(TestUsers.Devon); // free cards offer Claim, his own hold Extend and Release: all three are components
        var cut = Render<Board>();
        cut.WaitForAssertion(() => Assert.Equal(1, Harness.Notifier.SubscriberCount));
        var cards = cut.FindComponents<SlotCardView>().ToDictionary(c => c.Instance.Slot.Name);
        Assert.Equal(["qa-1", "qa-2", "qa-3"], cards.Keys.Order());
        var cardRenders = cards.ToDictionary(c => c.Key, c => c.Value.RenderCount);

        // Extended from another tab: the card is still his and still has buttons, so it takes the change itself.
        await Harness.Actions.ExtendAsync(TestUsers.Devon, slots[1].Id, mine.Value!.Id, TimeSpan.FromHours(1), mine.Value.Until);

        cut.WaitForAssertion(() => Assert.Contains("expires in 3 h", cut.Find("[data-testid=slot-qa-2] [data-testid=slot-until]").TextContent));
        Assert.Equal(cardRenders["qa-2"] + 1, cards["qa-2"].RenderCount);
        Assert.Equal(cardRenders["qa-1"], cards["qa-1"].RenderCount);
        Assert.Equal(cardRenders["qa-3"], cards["qa-3"].RenderCount);
    }

    [Fact]
    public async Task Board_ForAViewer_CardsAreMarkup_AndTheBoardRendersOnlyWhenOneChanges()
    {
        var slots = new List<Slot>();
        foreach (var name in new[] { "qa-1", "qa-2", "qa-3" })
        {
            slots.Add(await Harness.AddSlotAsync(name));
        }

        SignInAs(TestUsers.Viewer);
        var cut = Render<Board>();
        cut.WaitForAssertion(() => Assert.Equal(1, Harness.Notifier.SubscriberCount));
        Assert.Contains("3 of 3 free", cut.Markup);
        Assert.Empty(cut.FindComponents<SlotCardView>()); // nothing to press: no card is a component
        var boardRenders = cut.RenderCount;

        // A change that alters nothing the viewer sees, then a claim: the board renders once, for the claim.
        Harness.Notifier.Publish(new SlotChange(slots[0].Id, "nothing visible"));
        await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slots[1].Id, "login test", null));

        cut.WaitForAssertion(() => Assert.Equal("Held", cut.Find("[data-testid=slot-qa-2]").GetAttribute("data-state")));
        cut.WaitForAssertion(() => Assert.Contains("2 of 3 free", cut.Markup));
        Assert.Contains("login test", cut.Find("[data-testid=slot-qa-2]").TextContent);
        Assert.Equal("Free", cut.Find("[data-testid=slot-qa-1]").GetAttribute("data-state"));
        Assert.Equal(boardRenders + 1, cut.RenderCount);
    }

    [Fact]
    public async Task Board_ClockTick_RewordsTheHeldCard_AndRendersNoOtherCard()
    {
        var held = await Harness.AddSlotAsync("qa-1");
        await Harness.AddSlotAsync("qa-2");
        await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(held.Id, "payment test", TimeSpan.FromHours(2)));
        SignInAs(TestUsers.Devon); // Dana's hold is markup on his board, the free slot (Claim) a component
        var cut = Render<Board>();
        cut.WaitForAssertion(() => Assert.Equal(1, Harness.Notifier.SubscriberCount));
        Assert.Contains("expires in 2 h", cut.Find("[data-testid=slot-qa-1] [data-testid=slot-until]").TextContent);
        var freeCard = cut.FindComponents<SlotCardView>().Single();
        Assert.Equal("qa-2", freeCard.Instance.Slot.Name);
        var freeRenders = freeCard.RenderCount;

        await cut.InvokeAsync(() => Harness.Clock.Advance(TimeSpan.FromMinutes(91)));

        cut.WaitForAssertion(() => Assert.Contains("expires in 29 min", cut.Find("[data-testid=slot-qa-1] [data-testid=slot-until]").TextContent));
        Assert.Equal("Expiring", cut.Find("[data-testid=slot-qa-1]").GetAttribute("data-state"));
        Assert.Equal(freeRenders, freeCard.RenderCount);
    }

    [Fact]
    public async Task Board_ShowsHoldTimesInTheReadersZone_AndFollowsTheZoneLearnedAfterTheFirstRender()
    {
        var slot = await Harness.AddSlotAsync("qa-1");
        await Harness.AddSlotAsync("qa-2");
        var claimed = await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", TimeSpan.FromHours(2)));
        SignInAs(TestUsers.Devon); // the held card is markup on his board, the free one (Claim) a component

        // As the layout does: UTC until the browser has said where the reader is.
        var cut = Render<CascadingValue<TimeZoneInfo?>>(p => p.Add(c => c.Value, TimeZoneInfo.Utc).Add(c => c.IsFixed, false).AddChildContent<Board>());
        string ExactUntil() => cut.Find("[data-testid=slot-qa-1] [data-testid=slot-until] span[title]").GetAttribute("title")!;
        cut.WaitForAssertion(() => Assert.EndsWith("(UTC)", ExactUntil()));
        var freeCard = cut.FindComponents<SlotCardView>().Single(c => c.Instance.Slot.Name == "qa-2");
        var freeRenders = freeCard.RenderCount;

        var tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
        cut.Render(p => p.Add(c => c.Value, tokyo).Add(c => c.IsFixed, false).AddChildContent<Board>());

        var local = TimeZoneInfo.ConvertTimeFromUtc(claimed.Value!.Until, tokyo);
        cut.WaitForAssertion(() => Assert.Equal($"{local:yyyy-MM-dd HH:mm:ss} (Asia/Tokyo)", ExactUntil()));
        Assert.Equal(freeRenders, freeCard.RenderCount); // a free card shows no times
    }

    [Fact]
    public async Task Board_SlotClaimedAfterItOpened_SaysSinceInThePast()
    {
        var slot = await Harness.AddSlotAsync("qa-1");
        SignInAs(TestUsers.Viewer);
        var cut = Render<Board>();
        cut.WaitForAssertion(() => Assert.Equal(1, Harness.Notifier.SubscriberCount));
        await cut.InvokeAsync(() => Harness.Clock.Advance(TimeSpan.FromMilliseconds(500))); // before the board's clock ticks

        await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null));

        cut.WaitForAssertion(() => Assert.Contains("(less than a minute ago)", cut.Find("[data-testid=slot-qa-1]").TextContent));
    }

    [Fact]
    public async Task Board_HoldNearItsEnd_IsMarkedExpiring()
    {
        var slot = await Harness.AddSlotAsync("qa-1");
        await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", TimeSpan.FromHours(1)));
        Harness.Clock.Advance(TimeSpan.FromMinutes(40));
        SignInAs(TestUsers.Dana);

        var cut = Render<Board>();

        var card = cut.WaitForElement("[data-testid=slot-qa-1]");
        Assert.Equal("Expiring", card.GetAttribute("data-state"));
        Assert.Contains("expires in 20 min", card.QuerySelector("[data-testid=slot-until]")!.TextContent);
    }

    private static IEnumerable<string> ActionsOf(IElement card) =>
        card.QuerySelectorAll("[data-testid]")
            .Select(e => e.GetAttribute("data-testid")!)
            .Where(id => id is "claim" or "extend" or "release" or "qa-release" or "force-release");

    /// <summary>Holds every connection the page opens until the test opens the gate: a slow database.</summary>
    private sealed class ConnectionGate : DbConnectionInterceptor
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _open.TrySetResult();

        public override async ValueTask<InterceptionResult> ConnectionOpeningAsync(DbConnection connection, ConnectionEventData eventData,
            InterceptionResult result, CancellationToken cancellationToken = default)
        {
            await _open.Task.WaitAsync(cancellationToken);
            return result;
        }
    }

    private sealed class FailingFactory : IDbContextFactory<PortalDb>
    {
        public PortalDb CreateDbContext() => throw new InvalidOperationException("database is down");
    }
}
