using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>
/// Issue 22 on a 390 px phone: pods and "who held" as cards rather than clipped tables, /apps within the screen, log
/// lines wrapped from the start, chart labels big enough to read, and the demo note one line that goes away for good.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class PhoneBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    private const int Width = 390, Height = 844;

    protected override PortalHost CreateHost(TestDatabase database) => PortalHost.EmbeddedDefault(database);

    [Theory]
    [InlineData(ColorScheme.Light, "light")]
    [InlineData(ColorScheme.Dark, "dark")]
    public async Task APhone_GetsCards_WrappedLogs_ReadableCharts_AndOneDismissibleDemoLine(ColorScheme scheme, string name)
    {
        var page = await Browser.SignInAsync(Portal, "devon", Width, Height, scheme);

        var demo = page.Locator("[data-testid=demo-banner]");
        await Expect(demo).ToBeVisibleAsync();
        var demoHeight = await demo.EvaluateAsync<double>("e => e.getBoundingClientRect().height");
        Assert.True(demoHeight <= 32, $"the demo note is one line: {demoHeight}px");

        await page.GotoAsync("/deploy?app=storefront&branch=feature/login&slot=qa-2");
        await BrowserFixture.WaitInteractiveAsync(page);
        await page.Locator("[data-testid=deploy-purpose]").FillAsync("phone check");
        await Expect(page.Locator("[data-testid=deploy-preflight]")).ToContainTextAsync("(phone check)"); // the form has it: see DeployTests
        await page.Locator("[data-testid=deploy-submit]").ClickAsync();
        await BrowserFixture.WaitForDeploymentPageAsync(page, $"phone-{name}");
        await Expect(page.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 30_000 });

        // Pods: one card each, every line inside the screen; logs wrapped without asking.
        await Expect(page.Locator("[data-testid=pod][data-ready=true]")).ToHaveCountAsync(2);
        await AssertWithinScreenAsync(page, "[data-testid=pods] td", "pods");
        await Expect(page.Locator("[data-testid=log-lines]")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("portal-log-wrap"));
        await Shot(page, $"phone-deployment-{name}");

        await page.GotoAsync("/slots/qa-2");
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=slot-history-row]")).ToHaveCountAsync(1);
        await AssertWithinScreenAsync(page, "[data-testid=slot-history] td", "who held");
        await Shot(page, $"phone-slot-{name}");

        await page.GotoAsync("/apps");
        await BrowserFixture.WaitInteractiveAsync(page);
        await AssertWithinScreenAsync(page, "[data-testid=apps] td", "apps");
        await AssertPageWithinScreenAsync(page, "/apps");
        await Shot(page, $"phone-apps-{name}");

        await page.GotoAsync("/insights");
        await BrowserFixture.WaitInteractiveAsync(page);
        var label = await page.Locator("[data-testid=chart-holds] svg text").First.EvaluateAsync<double>("e => e.getBoundingClientRect().height");
        Assert.True(label >= 9, $"a chart label is {label}px tall on a phone");
        await AssertPageWithinScreenAsync(page, "/insights"); // the charts scroll inside their cards instead
        await Shot(page, $"phone-insights-{name}");

        // Dismissed once, gone on every page after, reloads included.
        await page.ClickAsync("[data-testid=demo-banner-dismiss]");
        await Expect(demo).ToBeHiddenAsync();
        await page.GotoAsync("/");
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=demo-banner]")).ToBeHiddenAsync();
        await Shot(page, $"phone-board-{name}");
    }

    private static async Task AssertWithinScreenAsync(IPage page, string cells, string what)
    {
        var right = await page.Locator(cells).EvaluateAllAsync<double>("cs => Math.max(...cs.map(c => c.getBoundingClientRect().right))");
        Assert.True(right <= Width, $"{what}: a cell ends at {right}px on a {Width}px phone");
    }

    private static async Task AssertPageWithinScreenAsync(IPage page, string what)
    {
        var pageWidth = await page.EvaluateAsync<double>("() => document.documentElement.scrollWidth");
        Assert.True(pageWidth <= Width, $"{what} is {pageWidth}px wide on a {Width}px phone");
    }

    private static Task Shot(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"{name}.png"), FullPage = true });
}
