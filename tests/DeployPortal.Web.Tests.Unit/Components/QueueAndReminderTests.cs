using Bunit;
using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Components.Shared;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using MudBlazor;

namespace DeployPortal.Web.Tests.Components;

/// <summary>The expiry reminder on the holder's slot card, and the queue panel.</summary>
public sealed class QueueAndReminderTests : PortalComponentTest
{
    [Fact]
    public async Task Board_HolderNearTheEnd_SeesAReminderWithOneClickExtend_OthersDoNot()
    {
        var slot = await Harness.AddSlotAsync("qa-1");
        await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", TimeSpan.FromHours(1)));
        Harness.Clock.Advance(TimeSpan.FromMinutes(40));

        SignInAs(TestUsers.Devon);
        var other = Render<Board>();
        other.WaitForElement("[data-testid=slot-qa-1]");
        Assert.Empty(other.FindAll("[data-testid=hold-reminder]"));
        await DisposeComponentsAsync();

        SignInAs(TestUsers.Dana);
        var cut = Render<Board>();
        var reminder = cut.WaitForElement("[data-testid=hold-reminder]");
        Assert.Contains("Your hold ends in 20 min.", reminder.TextContent);
        var buttons = cut.FindAll("[data-testid=reminder-extend]");
        Assert.Equal(["+ 1 h", "+ 2 h"], buttons.Select(b => b.TextContent.Trim()));

        await buttons[0].ClickAsync(new());

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=hold-reminder]")));
        var hold = Assert.Single(await Harness.HoldsAsync(slot.Id));
        Assert.Equal(TimeSpan.FromHours(2), hold.Until - hold.Since);
    }

    [Fact]
    public async Task Board_HoldAtItsHardMaximum_ReminderSaysItCannotBeExtended()
    {
        Harness.Options.CurrentValue = new HoldOptions { DefaultDuration = TimeSpan.FromHours(1), MaxDuration = TimeSpan.FromHours(1), HardMaxTotal = TimeSpan.FromHours(1) };
        var slot = await Harness.AddSlotAsync("qa-1");
        await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null));
        Harness.Clock.Advance(TimeSpan.FromMinutes(45));
        SignInAs(TestUsers.Dana);

        var cut = Render<Board>();

        cut.WaitForElement("[data-testid=hold-at-limit]");
        Assert.Empty(cut.FindAll("[data-testid=reminder-extend]"));
        Assert.Empty(cut.FindAll("[data-testid=extend]"));
    }

    [Fact]
    public async Task QueuePanel_ShowsPositionsAndWaits_LeaveOnlyOnOwnEntries_AndLeavingAsksFirst()
    {
        var slot = await Harness.AddSlotAsync("qa-1");
        await Harness.Actions.ClaimAsync(TestUsers.Ada, new ClaimRequest(slot.Id, "soak test", TimeSpan.FromHours(2)));
        await AddEntryAsync(TestUsers.Devon, slot.Id);
        await AddEntryAsync(TestUsers.Dana, null);
        SignInAs(TestUsers.Dana);
        var dialogs = Render<MudDialogProvider>();

        var cut = Render<QueuePanel>();

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=queue-entry]").Count));
        var entries = cut.FindAll("[data-testid=queue-entry]");
        Assert.Equal(["devon:1", "dana:2"], entries.Select(e => $"{e.GetAttribute("data-user")}:{e.GetAttribute("data-position")}"));
        Assert.Equal(["qa-1", "any slot"], entries.Select(e => e.QuerySelector("[data-testid=queue-target]")!.TextContent));
        // No history yet: the default hold length (4 h) is the typical one; qa-1 was claimed for 2 h, so it frees by then.
        Assert.Equal(["about 2 h", "about 6 h"], entries.Select(e => e.QuerySelector("[data-testid=queue-wait]")!.TextContent));
        Assert.Null(entries[0].QuerySelector("[data-testid=queue-leave]"));

        // The click waits for the confirmation, so it completes only after the dialog is answered.
        var leaving = entries[1].QuerySelector("[data-testid=queue-leave]")!.ClickAsync(new());
        dialogs.WaitForAssertion(() => Assert.Contains("Leave the queue?", dialogs.Markup));
        Assert.Equal(2, cut.FindAll("[data-testid=queue-entry]").Count); // nothing happens before the confirmation
        await dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Leave").ClickAsync(new());
        await leaving.WaitAsync(TimeSpan.FromSeconds(10));

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=queue-entry]")));
        await using var db = Harness.Database.Factory.CreateDbContext();
        Assert.Equal(WaitlistState.Left, db.Waitlist.Single(e => e.UserId == "dana").State);
    }

    private async Task AddEntryAsync(System.Security.Claims.ClaimsPrincipal user, int? slotId)
    {
        await using var db = Harness.Database.Factory.CreateDbContext();
        var actor = Web.Auth.Actor.From(user);
        db.Waitlist.Add(new WaitlistEntry
        {
            UserId = actor.Id,
            UserName = actor.Name,
            App = "storefront",
            Branch = "main",
            Purpose = "queue test",
            SlotId = slotId,
            JoinedAt = Harness.Clock.GetUtcNow().UtcDateTime,
            State = WaitlistState.Waiting,
        });
        await db.SaveChangesAsync();
        Harness.Clock.Advance(TimeSpan.FromSeconds(1));
    }
}
