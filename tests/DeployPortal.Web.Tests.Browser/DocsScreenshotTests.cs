using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>
/// The README's and docs' screenshots (docs/images/*.png), taken of a team's board so they stay current:
/// <c>DEPLOYPORTAL_WRITE_SCREENSHOTS=1</c> writes them into the repository (see <see cref="DocsImages"/>). Each view is
/// checked before it is taken, so a screenshot of a broken page fails the test instead of reaching the docs.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DocsScreenshotTests(BrowserFixture browser) : BrowserTest(browser)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await TeamBoard.SeedAsync(Database);
    }

    [Fact]
    public async Task Screenshots_OfTheBoard_MyWork_AndAPhone()
    {
        var dana = await Browser.SignInAsync(Portal, "dana", 1366, 768);
        await Expect(dana.Locator("[data-testid=slot-qa-4] [data-testid=slot-verdict]")).ToContainTextAsync("QA failed");
        await dana.ClickAsync("[data-testid=demo-banner-dismiss]"); // the docs show the portal, not the demo note
        await DocsImages.SaveAsync(dana, "board");

        await dana.ClickAsync("[data-testid=board-compact]");
        await Expect(dana.Locator("html")).ToHaveAttributeAsync("data-compact", "");
        await DocsImages.SaveAsync(dana, "board-compact");
        await dana.ClickAsync("[data-testid=board-compact]");

        await dana.GotoAsync("/?app=catalog");
        await BrowserFixture.WaitInteractiveAsync(dana);
        await Expect(dana.Locator("[data-testid=board] .portal-board-cell > [data-state]")).ToHaveCountAsync(2);
        await DocsImages.SaveAsync(dana, "board-filtered");

        await dana.GotoAsync("/me");
        await BrowserFixture.WaitInteractiveAsync(dana);
        await Expect(dana.Locator("h1")).ToContainTextAsync("My work");
        await DocsImages.SaveAsync(dana, "my-work");

        var quinn = await Browser.SignInAsync(Portal, "quinn", 390, 844, ColorScheme.Dark);
        await Expect(quinn.Locator("[data-testid=slot-qa-1]")).ToBeVisibleAsync();
        await quinn.ClickAsync("[data-testid=demo-banner-dismiss]");
        await DocsImages.SaveAsync(quinn, "board-phone-dark");
    }
}
