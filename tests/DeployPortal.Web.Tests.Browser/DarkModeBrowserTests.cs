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

    [Theory]
    [InlineData(ColorScheme.Dark, 1366, 768)]
    [InlineData(ColorScheme.Light, 1366, 768)]
    [InlineData(ColorScheme.Dark, 390, 844)]
    public async Task EveryPage_HasAReadableAppBar_AndChosenFilter(ColorScheme scheme, int width, int height)
    {
        var page = await Browser.SignInAsync(Portal, "ada", width, height, scheme);
        var name = $"{scheme.ToString().ToLowerInvariant()}-{width}";
        foreach (var path in new[] { "/", "/?show=free", "/me", "/deploy", "/apps", "/history", "/insights", "/queue", "/profile", "/slots/qa-1" })
        {
            await page.GotoAsync(path);
            await BrowserFixture.WaitInteractiveAsync(page);
            var bar = await ContrastAsync(page, "[data-testid=app-bar]");
            Assert.True(bar >= 4.5, $"{path}: the app bar's text has a contrast of {bar:0.0} against its background in {name} (4.5 wanted)");
            if (path == "/?show=free")
            {
                var chosen = await ContrastAsync(page, "[data-testid=board-show-free]");
                Assert.True(chosen >= 4.5, $"the chosen filter's text has a contrast of {chosen:0.0} in {name}");
            }

            var file = path == "/" ? "board" : path.Trim('/').Replace('/', '-').Replace("?show=", "-");
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"pages-{name}-{file}.png"), FullPage = true });
        }
    }

    /// <summary>The WCAG contrast ratio of an element's text colour against its background colour.</summary>
    private static Task<double> ContrastAsync(IPage page, string selector) => page.Locator(selector).First.EvaluateAsync<double>("""
        e => {
          const lum = s => { const [r, g, b] = s.match(/[\d.]+/g).map(Number).map(c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
          const style = getComputedStyle(e);
          const [a, b] = [lum(style.color), lum(style.backgroundColor)].sort((x, y) => y - x);
          return (a + 0.05) / (b + 0.05);
        }
        """);

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
