using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>The question to an idle holder on the board, and the one-click "keep it".</summary>
[Collection(BrowserCollection.Name)]
public sealed class KeepItBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    /// <summary>Dana as the development sign-in knows her (its subjects are prefixed).</summary>
    private static readonly System.Security.Claims.ClaimsPrincipal DemoDana = TestUsers.Make("dev:dana", "Dana Developer", Web.Auth.PortalRoles.Developer);

    [Fact]
    public async Task Board_IdleHolderIsAsked_SeesTheQuestionLive_AndKeepItWithdrawsIt()
    {
        long holdId;
        using (var scope = Host.Services.CreateScope())
        {
            var slots = scope.ServiceProvider.GetRequiredService<HoldActions>();
            var board = scope.ServiceProvider.GetRequiredService<BoardQueries>();
            var slot = (await board.GetBoardAsync()).First(s => s.Name == "qa-1");
            var claim = await slots.ClaimAsync(DemoDana, new ClaimRequest(slot.Id, "payment test", null));
            Assert.True(claim.Succeeded, claim.Failure?.Message);
            holdId = claim.Value!.Id;
        }

        var dana = await Browser.SignInAsync(Portal, "dana");
        var card = dana.Locator("[data-testid=slot-qa-1]");
        await Expect(card).ToHaveAttributeAsync("data-state", "Held");
        await Expect(card.Locator("[data-testid=keep-prompt]")).ToHaveCountAsync(0);
        var use = card.Locator("[data-testid=slot-use]"); // why the hold counts as in use or idle
        await Expect(use).ToHaveTextAsync("in use: claimed less than a minute ago");

        // Nobody used the slot for 70 minutes; the give-back job asks her (the board updates by itself).
        await using (var db = Database.Factory.CreateDbContext())
        {
            var idleSince = DateTime.UtcNow.AddMinutes(-70);
            await db.Holds.Where(h => h.Id == holdId).ExecuteUpdateAsync(s => s.SetProperty(h => h.LastActivityAt, idleSince));
        }

        using (var scope = Host.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<IdleGiveBack>().RunAsync();
        }

        var prompt = card.Locator("[data-testid=keep-prompt]");
        // The board words times by its own minute clock, so the minutes may be one off the job's.
        await Expect(prompt).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"^Your slot has been idle 1 h \d+ min\. Keep it or release it: otherwise it is given back in \d+ min\."));
        await Expect(use).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^idle 1 h \d+ min · asked; given back at \d\d:\d\d unless used or kept$"));
        await dana.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "board-keep-it.png"), FullPage = true });

        await prompt.Locator("[data-testid=keep-it]").ClickAsync();

        await Expect(prompt).ToHaveCountAsync(0);
        await Expect(use).ToHaveTextAsync("in use: kept when asked less than a minute ago");
        await using var check = Database.Factory.CreateDbContext();
        var hold = await check.Holds.SingleAsync(h => h.Id == holdId);
        Assert.Null(hold.KeepDeadline);
        Assert.Null(hold.ReleasedAt);
    }
}
