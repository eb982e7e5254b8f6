using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>The embedded default as a person uses it: demo apps, demo git repository, the in-process emulator.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DeployTests(BrowserFixture browser) : BrowserTest(browser)
{
    protected override PortalHost CreateHost(TestDatabase database) => PortalHost.EmbeddedDefault(database);

    [Fact]
    public async Task Deploy_FromTheForm_ReachesSucceededWithItsPods_AndTheBoardShowsWhatRuns()
    {
        var page = await Browser.SignInAsync(Portal, "dana");
        await page.Locator("[data-testid=slot-qa-2] [data-testid=deploy-here]").ClickAsync();
        await BrowserFixture.WaitInteractiveAsync(page);

        await page.Locator("[data-testid=deploy-app]").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "storefront — The shop's web front end (demo)" }).ClickAsync();
        await BrowserFixture.PickBranchAsync(page, "login", "feature/login");
        await page.Locator("[data-testid=deploy-purpose]").FillAsync("login flow");
        await Expect(page.Locator("[data-testid=deploy-preflight]")).ToHaveTextAsync("Deploys storefront@feature/login into qa-2; claims qa-2 for 4 h (login flow).");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "deploy-form.png"), FullPage = true });
        await page.Locator("[data-testid=deploy-submit]").ClickAsync();

        await BrowserFixture.WaitForDeploymentPageAsync(page, "deploy-form");
        await Expect(page.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=pod][data-ready=true]")).ToHaveCountAsync(2);
        await Expect(page.Locator("[data-testid=step-verify]")).ToHaveAttributeAsync("data-state", "Succeeded");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "deployment-succeeded.png"), FullPage = true });

        await page.GotoAsync("/");
        await BrowserFixture.WaitInteractiveAsync(page);
        var running = page.Locator("[data-testid=slot-qa-2] [data-testid=slot-deployment-storefront]");
        await Expect(running).ToContainTextAsync("storefront@feature/login");
        await Expect(running.Locator("[data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Succeeded");
    }

    [Fact]
    public async Task Deploy_FromALinkNamingNoBranch_KeepsTheName_SaysSo_AndDeploysNothing()
    {
        var page = await Browser.SignInAsync(Portal, "dana");

        await page.GotoAsync("/deploy?app=storefront&branch=feature-login&slot=qa-1");
        await BrowserFixture.WaitInteractiveAsync(page);

        var branch = page.Locator("[data-testid=deploy-branch]"); // the input itself
        await Expect(branch).ToHaveValueAsync("feature-login");
        await Expect(page.GetByText("storefront's repository has no branch called \"feature-login\"; did you mean feature/login?")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=deploy-preflight]")).ToHaveCountAsync(0);
        await page.Locator("[data-testid=deploy-purpose]").FillAsync("typo check");
        await page.Locator("[data-testid=deploy-submit]").ClickAsync();

        await Expect(branch).ToHaveValueAsync("feature-login");
        Assert.EndsWith("/deploy", new Uri(page.Url).AbsolutePath);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "deploy-branch-typo.png"), FullPage = true });
        await using var db = Database.Factory.CreateDbContext();
        Assert.False(await db.Deployments.AnyAsync());
    }

    [Fact]
    public async Task Deploy_BranchThatCrashes_ShowsTheClustersReason()
    {
        var page = await Browser.SignInAsync(Portal, "devon");
        await page.GotoAsync("/deploy?app=payments&branch=crash-on-start&slot=qa-3");
        await BrowserFixture.WaitInteractiveAsync(page);
        await page.Locator("[data-testid=deploy-purpose]").FillAsync("crash check");
        // Submit once the form says what it will do, purpose included: the purpose typed a moment ago reaches the
        // server as an input event, and a submit that overtook it would claim without one and be refused.
        await Expect(page.Locator("[data-testid=deploy-preflight]")).ToHaveTextAsync("Deploys payments@crash-on-start into qa-3; claims qa-3 for 4 h (crash check).");
        await page.Locator("[data-testid=deploy-submit]").ClickAsync();

        await BrowserFixture.WaitForDeploymentPageAsync(page, "deploy-crash");
        await Expect(page.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Failed", new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=failure-reason]")).ToContainTextAsync("CrashLoopBackOff");
        // The exception leads; the log lines appear once, their colours rendered rather than printed as escapes.
        await Expect(page.Locator("[data-testid=failure-exception]")).ToHaveTextAsync("System.InvalidOperationException: Configuration value 'ConnectionStrings:Default' is missing.");
        await Expect(page.Locator("[data-testid=failure-log] .ansi-bg-1").First).ToHaveTextAsync("fail");
        await Expect(page.Locator("[data-testid=failure-reason]")).Not.ToContainTextAsync("[41m");
        await Expect(page.Locator("[data-testid=step-rollout] .portal-step-message")).Not.ToContainTextAsync("Hosting failed to start");
        await Expect(page.Locator("[data-testid=failure-headline]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"restarted (1 time|\d+ times)\)\.$"));
        await Expect(page.Locator("[data-testid=history-this]")).ToContainTextAsync("(this one)"); // the page's own row in the app's deployments
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "deployment-failed.png"), FullPage = true });

        // The button under the reason opens the crashed container's previous run (the cluster's previous=true log).
        await page.Locator("[data-testid=failure-previous-log]").ClickAsync();
        await Expect(page.Locator("[data-testid=log-previous-note]")).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/deployments/\\d+#logs$"));
        await Expect(page.Locator("[data-testid=log-lines]")).ToContainTextAsync("ConnectionStrings:Default");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "deployment-failed-previous-log.png"), FullPage = true });
        await page.SetViewportSizeAsync(390, 844);
        // On a phone the wrapped lines overflow the box, which opens at its end: the crash, not the start-up lines.
        var box = page.Locator("[data-testid=failure-log]");
        Assert.True(await box.EvaluateAsync<bool>("el => el.scrollHeight > el.clientHeight"), "the crash log should overflow its box at 390 px");
        Assert.True(await box.EvaluateAsync<bool>("""
            el => { const box = el.getBoundingClientRect(), last = el.querySelector('.portal-crash-line:last-child').getBoundingClientRect();
                    return last.bottom <= box.bottom + 1 && last.top >= box.top - 1; }
            """), "the last line of the crash log should be in view");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "deployment-failed-390.png"), FullPage = true });
    }

    [Fact]
    public async Task Deploy_WithNothingChosen_SaysWhat_AndTheMessageGoesOnceTheAppIsPicked()
    {
        var page = await Browser.SignInAsync(Portal, "devon");
        await page.GotoAsync("/deploy");
        await BrowserFixture.WaitInteractiveAsync(page);
        await page.Locator("[data-testid=deploy-submit]").ClickAsync();
        await Expect(page.Locator("[data-testid=deploy-error]")).ToHaveTextAsync("Choose an app from the list.");

        await page.Locator("[data-testid=deploy-app]").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "storefront", Exact = false }).First.ClickAsync();
        await Expect(page.Locator("[data-testid=deploy-error]")).ToHaveCountAsync(0);
        await using var db = Database.Factory.CreateDbContext();
        Assert.Equal(0, await db.Deployments.CountAsync());
    }

    [Fact]
    public async Task Viewer_SeesNoDeployButtons_AndTheFormSaysWhy()
    {
        var page = await Browser.SignInAsync(Portal, "viewer");

        await Expect(page.Locator("[data-testid=slot-qa-1]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=deploy-here]")).ToHaveCountAsync(0);
        await page.GotoAsync("/deploy?app=payments&branch=main&slot=qa-1");
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=deploy-not-allowed]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=deploy-submit]")).ToHaveCountAsync(0);

        await using var db = Database.Factory.CreateDbContext();
        Assert.Equal(0, await db.Deployments.CountAsync());
    }
}
