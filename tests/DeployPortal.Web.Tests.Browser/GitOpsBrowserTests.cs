using DeployPortal.Web.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>The embedded default in GitOps mode, as a person sees a deployment: the commit and Argo CD's word on the steps.</summary>
[Collection(BrowserCollection.Name)]
public sealed class GitOpsBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    protected override PortalHost CreateHost(TestDatabase database) => PortalHost.EmbeddedDefault(database, new Dictionary<string, string?>
    {
        ["Deployments:Mode"] = "GitOps",
        ["Cluster:Emulator:ApplicationRefreshInterval"] = "00:00:00.200",
        ["GitOps:CommitUrl"] = "https://git.example.com/platform/config/-/commit/{commit}",
    });

    [Theory]
    [InlineData(1280, 900)]
    [InlineData(390, 844)]
    public async Task GitOpsDeploy_ShowsTheConfigurationCommit_AndArgoCdsSyncAndHealthOnTheSteps(int width, int height)
    {
        var page = await Browser.SignInAsync(Portal, "dana", width, height);
        await page.GotoAsync("/deploy?app=payments&branch=main&slot=qa-1");
        await BrowserFixture.WaitInteractiveAsync(page);
        await page.Locator("[data-testid=deploy-purpose]").FillAsync("gitops check");
        await Expect(page.Locator("[data-testid=deploy-preflight]")).ToContainTextAsync("(gitops check)");
        await page.Locator("[data-testid=deploy-submit]").ClickAsync();

        await BrowserFixture.WaitForDeploymentPageAsync(page, $"gitops-{width}");
        await Expect(page.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=config-commit]")).ToContainTextAsync("configuration repository commit");
        await Expect(page.Locator("[data-testid=config-commit-link]")).ToHaveAttributeAsync("href",
            new System.Text.RegularExpressions.Regex("^https://git\\.example\\.com/platform/config/-/commit/[0-9a-f]{40}$"));
        await Expect(page.Locator("[data-testid=step-apply]")).ToContainTextAsync("Argo CD synced it");
        await Expect(page.Locator("[data-testid=step-verify]")).ToContainTextAsync("Argo CD reports payments Synced and Healthy");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"gitops-deployment-{width}.png"), FullPage = true });
    }
}
