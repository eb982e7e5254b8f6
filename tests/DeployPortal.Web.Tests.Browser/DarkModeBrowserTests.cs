using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>
/// Dark mode as a person meets it: a system set to dark gets dark pages at once; the account menu's choice overrides
/// the system either way and is remembered across pages and reloads; "System" follows the system again.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DarkModeBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    protected override PortalHost CreateHost(TestDatabase database) => PortalHost.EmbeddedDefault(database);

    [Fact]
    public async Task ASystemSetToDark_GetsDarkPages_AndTheMenuChoiceWinsAndIsRemembered()
    {
        var page = await Browser.SignInAsync(Portal, "dana", colorScheme: ColorScheme.Dark);
        Assert.True(await BackgroundLuminanceAsync(page) < 0.2, "the board should be dark when the system prefers dark");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "dark-board.png"), FullPage = true });

        await page.GotoAsync("/deploy");
        await BrowserFixture.WaitInteractiveAsync(page);
        Assert.True(await BackgroundLuminanceAsync(page) < 0.2, "every page follows: the deploy form too");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "dark-deploy.png"), FullPage = true });

        await ChooseAsync(page, "light");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "light");
        Assert.True(await BackgroundLuminanceAsync(page) > 0.8, "choosing Light overrides a dark system");

        await page.ReloadAsync();
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "light"); // rendered by the server from the cookie
        Assert.True(await BackgroundLuminanceAsync(page) > 0.8);

        await ChooseAsync(page, "system");
        await Expect(page.Locator("html")).Not.ToHaveAttributeAsync("data-theme", new System.Text.RegularExpressions.Regex(".+"));
        Assert.True(await BackgroundLuminanceAsync(page) < 0.2, "System follows the dark system again");
    }

    [Fact]
    public async Task ALightSystem_StaysLight_UntilThePersonChoosesDark()
    {
        var page = await Browser.SignInAsync(Portal, "quinn", width: 390, height: 844);
        Assert.True(await BackgroundLuminanceAsync(page) > 0.8);

        await ChooseAsync(page, "dark");
        Assert.True(await BackgroundLuminanceAsync(page) < 0.2);
        await page.GotoAsync("/history");
        await BrowserFixture.WaitInteractiveAsync(page);
        Assert.True(await BackgroundLuminanceAsync(page) < 0.2, "the choice holds on the next page");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "dark-history-phone.png"), FullPage = true });
    }

    private static async Task ChooseAsync(IPage page, string theme)
    {
        await page.ClickAsync("[data-testid=current-user]");
        await page.ClickAsync($"[data-testid=theme-{theme}]");
        await Expect(page.Locator($"[data-testid=theme-{theme}]")).ToHaveAttributeAsync("aria-pressed", "true");
    }

    /// <summary>The relative luminance (0 black … 1 white) of the page's background as the browser computed it.</summary>
    private static Task<double> BackgroundLuminanceAsync(IPage page) => page.EvaluateAsync<double>("""
        () => {
          const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
          const lin = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
          return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
        }
        """);
}
