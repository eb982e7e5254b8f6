using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>QA's verdict reaches the developer while she looks: on her deployment's page and on My work.</summary>
[Collection(BrowserCollection.Name)]
public sealed class MyWorkBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    private const string Verdict = "Quinn QA released qa-2: fail — checkout button missing";


    protected override PortalHost CreateHost(TestDatabase database) => PortalHost.EmbeddedDefault(database);

    [Fact]
    public async Task MyWork_QaFailsDanasSlot_HerDeploymentPageAndMyWorkSayWhoAndWhy_WithoutReload()
    {
        var dev = await Browser.SignInAsync(Portal, "dana");
        await dev.Locator("[data-testid=nav-me]").ClickAsync();
        await BrowserFixture.WaitInteractiveAsync(dev);
        await Expect(dev.Locator("[data-testid=me-empty]")).ToContainTextAsync("Nothing here yet.");
        await Expect(dev.Locator("[data-testid=queue-entries-empty]")).ToHaveTextAsync("You are not waiting for a slot.");
        await Shoot(dev, "my-work-empty");

        await dev.GotoAsync("/deploy?app=storefront&branch=feature/login&slot=qa-2");
        await BrowserFixture.WaitInteractiveAsync(dev);
        await dev.Locator("[data-testid=deploy-purpose]").FillAsync("checkout flow");
        // Submit once the form says what it will do, purpose included (the typed purpose reaches the server first).
        await Expect(dev.Locator("[data-testid=deploy-preflight]")).ToContainTextAsync("(checkout flow)");
        await dev.Locator("[data-testid=deploy-submit]").ClickAsync();
        await BrowserFixture.WaitForDeploymentPageAsync(dev, "my-work-deploy");
        await Expect(dev.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 30_000 });
        await Expect(dev.Locator("[data-testid=app-url]")).ToBeVisibleAsync();
        await dev.EvaluateAsync("() => window.__notReloaded = true");

        var me = await dev.Context.NewPageAsync();
        await me.GotoAsync("/me");
        await BrowserFixture.WaitInteractiveAsync(me);
        await Expect(me.Locator("[data-testid=me-hold-qa-2]")).ToContainTextAsync("checkout flow");
        await Expect(me.Locator("[data-testid=me-deployment]")).ToContainTextAsync("storefront@feature/login");
        await Expect(me.Locator("[data-testid=me-outcomes-empty]")).ToBeVisibleAsync();
        await me.EvaluateAsync("() => window.__notReloaded = true");

        var qa = await Browser.SignInAsync(Portal, "quinn");
        await qa.Locator("[data-testid=slot-qa-2] [data-testid=qa-release]").ClickAsync();
        await qa.Locator("[data-testid=qa-fail]").ClickAsync();
        await qa.Locator(".mud-dialog textarea").FillAsync("checkout button missing");
        await qa.Locator("[data-testid=qa-submit]").ClickAsync();
        await Expect(qa.Locator("[data-testid=slot-qa-2]")).Not.ToHaveAttributeAsync("data-state", "Held");

        // Dana's deployment page tells her, and no longer offers the removed app or waits for pods.
        await Expect(dev.Locator("[data-testid=hold-ended-sentence]")).ToHaveTextAsync(Verdict);
        await Expect(dev.Locator("[data-testid=hold-ended]")).ToHaveAttributeAsync("data-outcome", "fail");
        await Expect(dev.Locator("[data-testid=deployment-header] [data-testid=deployment-removed]")).ToHaveTextAsync("Removed with the release");
        await Expect(dev.Locator("[data-testid=app-url]")).ToHaveCountAsync(0);
        await Expect(dev.GetByText("No pods yet.")).ToHaveCountAsync(0);
        await Expect(dev.Locator("[data-testid=redeploy]")).ToHaveCountAsync(0);
        await Expect(dev.Locator("[data-testid=deploy-again]")).ToHaveAttributeAsync("href", "/deploy?app=storefront&branch=feature%2Flogin&slot=qa-2");
        Assert.True(await dev.EvaluateAsync<bool>("() => window.__notReloaded === true"));
        await Shoot(dev, "deployment-released-fail");

        // And My work: the verdict first, the hold gone, the deployment annotated.
        await Expect(me.Locator("[data-testid=me-outcome-sentence]").First).ToHaveTextAsync(Verdict);
        await Expect(me.Locator("[data-testid=me-outcome]").First).ToHaveAttributeAsync("data-outcome", "fail");
        await Expect(me.Locator("[data-testid=me-holds-empty]")).ToBeVisibleAsync();
        await Expect(me.Locator("[data-testid=me-deployment]")).ToContainTextAsync(Verdict);
        Assert.True(await me.EvaluateAsync<bool>("() => window.__notReloaded === true"));
        await Shoot(me, "my-work-verdict");
        await me.SetViewportSizeAsync(390, 844);
        await Shoot(me, "my-work-verdict-390");
        await dev.SetViewportSizeAsync(390, 844);
        await Shoot(dev, "deployment-released-fail-390");
    }

    [Fact]
    public async Task MyWork_ReleaseFromMyWork_EndsTheHold_AndTheListSaysSo()
    {
        var dev = await Browser.SignInAsync(Portal, "dana");
        await dev.Locator("[data-testid=slot-qa-1] [data-testid=claim]").ClickAsync();
        await dev.Locator("[data-testid=claim-purpose]").FillAsync("search test");
        await dev.Locator("[data-testid=claim-submit]").ClickAsync();
        await Expect(dev.Locator("[data-testid=slot-qa-1]")).ToHaveAttributeAsync("data-state", "Held");

        await dev.GotoAsync("/me");
        await BrowserFixture.WaitInteractiveAsync(dev);
        var hold = dev.Locator("[data-testid=me-hold-qa-1]");
        await Expect(hold).ToContainTextAsync("search test");
        await Expect(hold.Locator("[data-testid=me-extend]")).ToBeVisibleAsync();
        await Expect(dev.Locator("[data-testid=me-empty]")).ToHaveCountAsync(0);
        await Shoot(dev, "my-work-hold");

        await hold.Locator("[data-testid=me-release]").ClickAsync();
        await dev.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Release" }).ClickAsync();
        await Expect(dev.Locator("[data-testid=me-holds-empty]")).ToBeVisibleAsync();

        await using var db = Database.Factory.CreateDbContext();
        var ended = await db.Holds.SingleAsync();
        Assert.Equal((ReleaseReason.Released, ended.HolderId), (ended.ReleaseReason!.Value, ended.ReleasedById!));
        // Her own release is not news to her: no verdict is listed.
        await Expect(dev.Locator("[data-testid=me-outcomes-empty]")).ToBeVisibleAsync();
    }

    private static Task Shoot(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, name + ".png"), FullPage = true });
}
