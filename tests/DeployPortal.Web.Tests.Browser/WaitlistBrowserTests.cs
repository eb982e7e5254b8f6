using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>The queue as people use it: every slot taken, one person queues from the deploy form, another releases.</summary>
[Collection(BrowserCollection.Name)]
public sealed class WaitlistBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    /// <summary>Dana as the development sign-in knows her (its subjects are prefixed).</summary>
    private static readonly System.Security.Claims.ClaimsPrincipal DemoDana = TestUsers.Make("dev:dana", "Dana Developer", Web.Auth.PortalRoles.Developer);

    protected override PortalHost CreateHost(TestDatabase database) => PortalHost.EmbeddedDefault(database);

    [Fact]
    public async Task Queue_AllSlotsHeld_JoinFromTheDeployForm_AnotherReleases_TheWaitingPageShowsTheSlotIsTheirsAndTheDeploymentRunning()
    {
        // Dana holds every slot.
        using (var scope = Host.Services.CreateScope())
        {
            var slots = scope.ServiceProvider.GetRequiredService<HoldActions>();
            var board = scope.ServiceProvider.GetRequiredService<BoardQueries>();
            foreach (var slot in await board.GetBoardAsync())
            {
                var claim = await slots.ClaimAsync(DemoDana, new ClaimRequest(slot.Id, "regression run", null));
                Assert.True(claim.Succeeded, claim.Failure?.Message);
            }
        }

        // Devon finds no free slot on the deploy form and joins the queue for any slot.
        var devon = await Browser.SignInAsync(Portal, "devon");
        await devon.GotoAsync("/deploy");
        await BrowserFixture.WaitInteractiveAsync(devon);
        await Expect(devon.Locator("[data-testid=queue-offer]")).ToContainTextAsync("Every slot is taken.");
        await devon.Locator("[data-testid=deploy-app]").ClickAsync();
        await devon.GetByRole(AriaRole.Option, new() { Name = "storefront — The shop's web front end (demo)" }).ClickAsync();
        await BrowserFixture.PickBranchAsync(devon, "login", "feature/login");
        await devon.Locator("[data-testid=deploy-purpose]").FillAsync("login flow");
        await devon.Locator("[data-testid=queue-join]").ClickAsync();
        var waiting = devon.Locator("[data-testid=queue-waiting]");
        await Expect(waiting).ToContainTextAsync("#1 in the queue for any slot", new() { Timeout = 30_000 });
        // The form says it in words, and pressing again keeps the one entry and the sentence rather than adding another.
        var notice = devon.Locator("[data-testid=deploy-notice]");
        await Expect(notice).ToHaveTextAsync("You are #1 in the queue for any slot with storefront@feature/login; leave it above if plans change.");
        await devon.Locator("[data-testid=queue-join]").ClickAsync();
        await Expect(notice).ToHaveTextAsync("You are #1 in the queue for any slot with storefront@feature/login; leave it above if plans change.");
        await Expect(waiting).ToHaveCountAsync(1);
        // No history yet, so a default hold (4 h) after Dana's claims; a slow machine may have spent over half a minute since.
        await Expect(waiting.Locator("[data-testid=queue-wait]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^about (4 h|3 h 5[0-9] min)$"));
        await devon.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "queue-waiting.png"), FullPage = true });
        await devon.EvaluateAsync("() => window.__notReloaded = true");

        // Dana sees the queue on her board and releases qa-3.
        var dana = await Browser.SignInAsync(Portal, "dana");
        await Expect(dana.Locator("[data-testid=queue-panel] [data-testid=queue-entry]")).ToContainTextAsync("Devon Developer");
        await dana.Locator("[data-testid=slot-qa-3] [data-testid=release]").ClickAsync();
        await dana.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Release", Exact = true }).ClickAsync();

        // Devon's open page says qa-3 is his, and the deployment runs (and, on the emulator, succeeds).
        var served = devon.Locator("[data-testid=queue-served]");
        await Expect(served.Locator("[data-testid=queue-served-slot]")).ToHaveTextAsync("qa-3", new() { Timeout = 30_000 });
        await Expect(served.Locator("[data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", new System.Text.RegularExpressions.Regex("^(Queued|Running|Succeeded)$"));
        await Expect(served.Locator("[data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 30_000 });
        Assert.True(await devon.EvaluateAsync<bool>("() => window.__notReloaded === true"));
        await devon.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "queue-served.png"), FullPage = true });

        // And Dana's board shows it too: qa-3 held by Devon, running his branch.
        var qa3 = dana.Locator("[data-testid=slot-qa-3]");
        await Expect(qa3.Locator("[data-testid=slot-holder]")).ToHaveTextAsync("Devon Developer");
        await Expect(qa3.Locator("[data-testid=slot-deployment-storefront]")).ToContainTextAsync("storefront@feature/login");
        await Expect(dana.Locator("[data-testid=queue-panel]")).ToHaveCountAsync(0);

        await using var db = Database.Factory.CreateDbContext();
        var entry = await db.Waitlist.SingleAsync();
        Assert.Equal((WaitlistState.Served, "dev:devon"), (entry.State, entry.UserId));
    }
    [Fact]
    public async Task Queue_OnceServed_TheFormDeploysIntoTheServedSlot_AndOffersNoSecondJoin()
    {
        using (var scope = Host.Services.CreateScope())
        {
            var slots = scope.ServiceProvider.GetRequiredService<HoldActions>();
            var board = scope.ServiceProvider.GetRequiredService<BoardQueries>();
            foreach (var slot in await board.GetBoardAsync())
            {
                var claim = await slots.ClaimAsync(DemoDana, new ClaimRequest(slot.Id, "regression run", null));
                Assert.True(claim.Succeeded, claim.Failure?.Message);
            }
        }

        var quinn = await Browser.SignInAsync(Portal, "quinn");
        await quinn.GotoAsync("/deploy");
        await BrowserFixture.WaitInteractiveAsync(quinn);
        await quinn.Locator("[data-testid=deploy-app]").ClickAsync();
        await quinn.GetByRole(AriaRole.Option, new() { Name = "storefront — The shop's web front end (demo)" }).ClickAsync();
        await BrowserFixture.PickBranchAsync(quinn, "main", "main");
        await quinn.Locator("[data-testid=deploy-purpose]").FillAsync("checkout test");
        await quinn.Locator("[data-testid=queue-join]").ClickAsync();
        await Expect(quinn.Locator("[data-testid=queue-waiting]")).ToContainTextAsync("#1 in the queue", new() { Timeout = 30_000 });

        // A release serves her while her form is open.
        using (var scope = Host.Services.CreateScope())
        {
            var slots = scope.ServiceProvider.GetRequiredService<HoldActions>();
            var board = scope.ServiceProvider.GetRequiredService<BoardQueries>();
            var qa3 = (await board.GetBoardAsync()).Single(s => s.Name == "qa-3");
            var released = await slots.ReleaseAsync(DemoDana, new ReleaseRequest(qa3.Id, qa3.Hold!.Id));
            Assert.True(released.Succeeded, released.Failure?.Message);
        }

        await Expect(quinn.Locator("[data-testid=queue-served-slot]")).ToHaveTextAsync("qa-3", new() { Timeout = 30_000 });
        // The form left queue mode: it deploys into qa-3, and "Join the queue" is gone.
        await Expect(quinn.Locator("[data-testid=queue-join]")).ToHaveCountAsync(0);
        await Expect(quinn.Locator("[data-testid=queue-waiting]")).ToHaveCountAsync(0);
        await Expect(quinn.Locator("[data-testid=deploy-submit]")).ToBeVisibleAsync();
        await Expect(quinn.Locator("[data-testid=deploy-preflight]")).ToContainTextAsync("into qa-3");
        await quinn.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "queue-served-form.png"), FullPage = true });

        await using var db = Database.Factory.CreateDbContext();
        Assert.Equal(WaitlistState.Served, (await db.Waitlist.SingleAsync()).State);
    }
}
