using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>A branch name typed wrong on the deploy form is kept, explained, and the likely one is one click away.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BranchTypoBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    protected override PortalHost CreateHost(TestDatabase database) => PortalHost.EmbeddedDefault(database);

    [Fact]
    public async Task BranchTypo_TypedAndDeployPressed_IsKeptExplained_AndTheSuggestionFillsTheField()
    {
        var page = await Browser.SignInAsync(Portal, "dana");
        await page.GotoAsync("/deploy?app=storefront&slot=qa-1");
        await BrowserFixture.WaitInteractiveAsync(page);
        var branch = page.Locator("[data-testid=deploy-branch]");
        await Expect(branch).ToBeEnabledAsync();
        await page.Locator("[data-testid=deploy-purpose]").FillAsync("typo check");

        // Nothing like it: kept, and said plainly, with no made-up suggestion.
        await branch.FillAsync("no-such-branch");
        await page.Locator("[data-testid=deploy-submit]").ClickAsync();
        await Expect(branch).ToHaveValueAsync("no-such-branch");
        await Expect(page.GetByText("storefront's repository has no branch called \"no-such-branch\".")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=branch-suggestion]")).ToHaveCountAsync(0);
        await Expect(page.GetByText("Choose a branch.")).ToHaveCountAsync(0);

        // A slip: kept, explained, and the likely branch is a button.
        await branch.FillAsync("feature-logn");
        await page.Locator("[data-testid=deploy-submit]").ClickAsync();
        await Expect(branch).ToHaveValueAsync("feature-logn");
        await Expect(page.GetByText("storefront's repository has no branch called \"feature-logn\"; did you mean feature/login?")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=deploy-preflight]")).ToHaveCountAsync(0);
        Assert.EndsWith("/deploy", new Uri(page.Url).AbsolutePath);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "deploy-branch-typed-typo.png"), FullPage = true });
        await page.SetViewportSizeAsync(390, 844);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "deploy-branch-typed-typo-390.png"), FullPage = true });
        await using (var db = Database.Factory.CreateDbContext())
        {
            Assert.False(await db.Deployments.AnyAsync());
        }

        await page.Locator("[data-testid=branch-suggestion]").ClickAsync();
        await Expect(branch).ToHaveValueAsync("feature/login");
        await Expect(page.Locator("[data-testid=deploy-preflight]")).ToContainTextAsync("Deploys storefront@feature/login into qa-1");
        await Expect(page.Locator("[data-testid=branch-suggestion]")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task BranchTypo_FromASharedLink_OffersTheSuggestionAsAButton()
    {
        var page = await Browser.SignInAsync(Portal, "dana");
        await page.GotoAsync("/deploy?app=storefront&branch=feature-login&slot=qa-1");
        await BrowserFixture.WaitInteractiveAsync(page);

        await Expect(page.Locator("[data-testid=deploy-branch]")).ToHaveValueAsync("feature-login");
        await page.Locator("[data-testid=branch-suggestion]").ClickAsync();
        await Expect(page.Locator("[data-testid=deploy-branch]")).ToHaveValueAsync("feature/login");
    }
}
