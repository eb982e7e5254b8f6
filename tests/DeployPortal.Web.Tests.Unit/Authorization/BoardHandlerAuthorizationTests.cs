using System.Reflection;
using Bunit;
using DeployPortal.Web.Audit;
using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Components;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Authorization;

/// <summary>
/// The board's event handlers invoked directly (as a crafted circuit message could), by people who are
/// not shown the button: the service refuses and nothing changes.
/// </summary>
public sealed class BoardHandlerAuthorizationTests : PortalComponentTest
{
    [Fact]
    public async Task Board_ToggleEnabledHandler_InvokedAsDeveloper_IsRefused_AndTheSlotStaysEnabled()
    {
        await Harness.AddSlotAsync("qa-1");
        SignInAs(TestUsers.Dana);
        var cut = Render<Board>();
        var card = CardOf(cut, "qa-1");
        var before = await Matrix.SnapshotAsync(Harness.Database.Factory);

        await cut.InvokeAsync(() => Send(cut.Instance, card, SlotCardCommand.ToggleEnabled));

        Assert.Equal(before, await Matrix.SnapshotAsync(Harness.Database.Factory));
        Assert.Equal(AuditActions.Denied, Assert.Single(await Harness.AuditAsync()).Action);
    }

    [Fact]
    public async Task Board_ForceReleaseHandler_InvokedAsDeveloper_IsRefused_AndTheHoldRemains()
    {
        var slot = await Harness.AddSlotAsync("qa-1");
        await Harness.Actions.ClaimAsync(TestUsers.Devon, new ClaimRequest(slot.Id, "payment test", null));
        SignInAs(TestUsers.Dana);
        var dialogs = Render<MudBlazor.MudDialogProvider>();
        var cut = Render<Board>();
        var card = CardOf(cut, "qa-1");
        var before = await Matrix.SnapshotAsync(Harness.Database.Factory);

        // The handler asks for confirmation first; answer it as the person would.
        var pending = cut.InvokeAsync(() => Send(cut.Instance, card, SlotCardCommand.ForceRelease));
        var confirm = dialogs.WaitForElements("button").First(b => b.TextContent.Contains("Force release", StringComparison.OrdinalIgnoreCase));
        await dialogs.InvokeAsync(() => confirm.Click());
        await pending;

        Assert.Equal(before, await Matrix.SnapshotAsync(Harness.Database.Factory));
        Assert.Contains(await Harness.AuditAsync(), a => a.Action == AuditActions.Denied);
    }

    [Fact]
    public async Task Board_ExtendHandler_InvokedAsViewerOnSomeoneElsesHold_IsRefused()
    {
        var slot = await Harness.AddSlotAsync("qa-1");
        await Harness.Actions.ClaimAsync(TestUsers.Devon, new ClaimRequest(slot.Id, "payment test", null));
        SignInAs(TestUsers.Viewer);
        var cut = Render<Board>();
        var card = CardOf(cut, "qa-1");
        var before = await Matrix.SnapshotAsync(Harness.Database.Factory);

        await cut.InvokeAsync(() => Send(cut.Instance, card, SlotCardCommand.Extend, TimeSpan.FromHours(1)));

        Assert.Equal(before, await Matrix.SnapshotAsync(Harness.Database.Factory));
    }

    [Fact]
    public async Task Board_ExtendHandler_ReplayedTwiceInParallel_ExtendsOnce()
    {
        var slot = await Harness.AddSlotAsync("qa-1");
        var hold = (await Harness.Actions.ClaimAsync(TestUsers.Devon, new ClaimRequest(slot.Id, "payment test", TimeSpan.FromHours(2)))).Value!;
        SignInAs(TestUsers.Devon);
        var cut = Render<Board>();
        var card = CardOf(cut, "qa-1");

        await Task.WhenAll(
            cut.InvokeAsync(() => Send(cut.Instance, card, SlotCardCommand.Extend, TimeSpan.FromHours(1))),
            cut.InvokeAsync(() => Send(cut.Instance, card, SlotCardCommand.Extend, TimeSpan.FromHours(1))));

        Assert.Equal(hold.Until + TimeSpan.FromHours(1), Assert.Single(await Harness.HoldsAsync(slot.Id)).Until);
        Assert.Single(await Harness.AuditAsync(slot.Id), a => a.Action == AuditActions.Extend);
    }

    private static SlotCard CardOf(IRenderedComponent<Board> cut, string name)
    {
        cut.WaitForElement($"[data-testid=slot-{name}]");
        var slots = (IReadOnlyList<SlotCard>)typeof(Board).GetField("_slots", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(cut.Instance)!;
        return slots.Single(s => s.Name == name);
    }

    /// <summary>A card's command as its button would send it, whether or not the card shows that button.</summary>
    private static Task Send(Board board, SlotCard card, SlotCardCommand command, TimeSpan by = default) =>
        (Task)typeof(Board).GetMethod("OnCardCommandAsync", BindingFlags.NonPublic | BindingFlags.Instance)!
            .Invoke(board, [new SlotCardRequest(card, command, by)])!;
}
