using Bunit;
using DeployPortal.Web.Components.Pages.Board;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;

namespace DeployPortal.Web.Tests.Components;

/// <summary>The question to an idle holder on their card: only they see it, it names who waits, and "keep it" answers it.</summary>
public sealed class KeepPromptTests : PortalComponentTest
{
    [Fact]
    public async Task Board_IdleHolderAskedWhileSomeoneWaits_SeesWhoWaits_OthersSeeNoQuestion_AndKeepItAnswers()
    {
        var slot = await Harness.AddSlotAsync("qa-1");
        await Harness.Actions.ClaimAsync(TestUsers.Dana, new ClaimRequest(slot.Id, "payment test", null));
        await using (var db = Harness.Database.Factory.CreateDbContext())
        {
            db.Waitlist.Add(new WaitlistEntry
            {
                UserId = "devon",
                UserName = "Devon Developer",
                App = "storefront",
                Branch = "main",
                Purpose = "login test",
                JoinedAt = Harness.Clock.GetUtcNow().UtcDateTime,
                State = WaitlistState.Waiting,
            });
            await db.SaveChangesAsync();
        }

        Harness.Clock.Advance(Harness.IdleOptions.CurrentValue.AskWhenQueuedAfter);
        await Harness.GiveBack.RunAsync();

        SignInAs(TestUsers.Devon);
        var other = Render<Board>();
        other.WaitForElement("[data-testid=slot-qa-1]");
        Assert.Empty(other.FindAll("[data-testid=keep-prompt]"));
        await DisposeComponentsAsync();

        SignInAs(TestUsers.Dana);
        var cut = Render<Board>();
        var prompt = cut.WaitForElement("[data-testid=keep-prompt]");
        Assert.Equal("Devon Developer is waiting; your slot has been idle 15 min. Keep it or release it: otherwise it is given back in 10 min.",
            prompt.QuerySelector("strong")!.TextContent);

        await cut.Find("[data-testid=keep-it]").ClickAsync(new());

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=keep-prompt]")));
        Assert.Null(Assert.Single(await Harness.HoldsAsync(slot.Id)).KeepDeadline);
    }
}
