using Microsoft.Playwright;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>One headless Debian Chromium for the browser tests (never a browser Playwright downloads).</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = default!;

    /// <summary>Where browser tests leave screenshots for people to look at.</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            // This machine's network is closed: keep Chromium from phoning home at start.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        Directory.CreateDirectory(ScreenshotFolder);
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright?.Dispose();
    }

    /// <summary>A fresh browser context signed in through the development sign-in page, waiting on an interactive board.</summary>
    /// <param name="colorScheme">The system setting the page sees (prefers-color-scheme); light unless a test says otherwise.</param>
    public async Task<IPage> SignInAsync(Uri portal, string demoUser, int width = 1280, int height = 900, ColorScheme colorScheme = ColorScheme.Light)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = portal.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            ColorScheme = colorScheme,
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/signin");
        await page.ClickAsync($"[data-testid=signin-{demoUser}]");
        await WaitInteractiveAsync(page);
        return page;
    }

    /// <summary>Closes every context the tests opened (their circuits end with them).</summary>
    public async Task CloseContextsAsync()
    {
        foreach (var context in Browser.Contexts.ToList())
        {
            await context.CloseAsync();
        }
    }

    public static Task WaitInteractiveAsync(IPage page) =>
        page.Locator("[data-testid=interactive]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });

    /// <summary>
    /// Types into the deploy form's branch field and picks <paramref name="branch"/> from its list, as a person would.
    /// The list opens with every branch on focus and is filtered on the server 100 ms after typing (MudAutocomplete's
    /// debounce); a click on the unfiltered list that overtook that search was undone by it (the typed text became the
    /// value: "no branch called login"), so the click waits until every option shown matches what was typed, and the
    /// pick counts once the list has closed with the branch in the field.
    /// </summary>
    public static async Task PickBranchAsync(IPage page, string typed, string branch)
    {
        var field = page.Locator("[data-testid=deploy-branch]");
        await field.FillAsync(typed);
        await page.WaitForFunctionAsync(
            "typed => { const options = [...document.querySelectorAll('[role=option]')]; "
            + "return options.length > 0 && options.every(o => o.textContent.toLowerCase().includes(typed)); }",
            typed.ToLowerInvariant());
        await page.GetByRole(AriaRole.Option, new() { Name = branch, Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Listbox)).ToHaveCountAsync(0);
        await Assertions.Expect(field).ToHaveValueAsync(branch);
    }

    /// <summary>
    /// Waits for the deployment page a submitted deploy form goes to (preflight, git and the cluster, can be slow on a
    /// busy machine). By polling the address: <c>WaitForURLAsync</c> checks the address, then waits for a navigation,
    /// and Blazor's client-side navigation could land between the two (three clean-clone runs failed with the page
    /// already on the deployment). On a timeout this fails with the address and the page's text and saves
    /// <c>{name}-no-navigation.png</c>.
    /// </summary>
    public static async Task WaitForDeploymentPageAsync(IPage page, string name)
    {
        try
        {
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/deployments/\\d+$"), new() { Timeout = 30_000 });
        }
        catch (PlaywrightException)
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotFolder, $"{name}-no-navigation.png"), FullPage = true });
            Assert.Fail($"No deployment page 30 s after submitting, still at {page.Url}; the page shows: {await page.Locator(".mud-main-content").InnerTextAsync()}");
        }
    }
}
