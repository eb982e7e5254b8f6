using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>Live logs as a person uses them: deploy in the embedded default, watch lines arrive, filter, scroll up.</summary>
[Collection(BrowserCollection.Name)]
public sealed class LogViewerBrowserTests(BrowserFixture browser) : IAsyncLifetime
{
    private TestDatabase _database = default!;
    private PortalHost _host = default!;
    private Uri _portal = default!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        _host = PortalHost.EmbeddedDefault(_database, new Dictionary<string, string?> { ["Cluster:Emulator:LogLinesPerSecond"] = "40" });
        _portal = _host.Start();
    }

    public async Task DisposeAsync()
    {
        await browser.CloseContextsAsync();
        await _host.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Logs_AfterADeploy_ArriveLive_FilterAsYouType_AndScrollingUpPausesFollowing()
    {
        var page = await browser.SignInAsync(_portal, "devon");
        await page.GotoAsync("/deploy?app=payments&branch=main&slot=qa-3");
        await BrowserFixture.WaitInteractiveAsync(page);
        await page.Locator("[data-testid=deploy-purpose]").FillAsync("log check");
        await page.Locator("[data-testid=deploy-submit]").ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/deployments/\\d+$"));
        await Expect(page.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 30_000 });

        // Lines appear, and keep appearing while the page is open.
        var lines = page.Locator("[data-testid=log-lines]");
        var first = await WaitForCountAsync(lines, "data-count", atLeast: 60);
        await WaitForCountAsync(lines, "data-count", atLeast: first + 20);
        await Expect(lines).ToHaveAttributeAsync("data-following", "true");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "logs-live.png"), FullPage = true });

        // Filter as you type: only matching lines stay, with the match marked.
        await page.Locator("input[data-testid=log-filter], [data-testid=log-filter] input").First.FillAsync("POST");
        await Expect(lines.Locator("[data-testid=log-line] mark").First).ToHaveTextAsync("POST");
        foreach (var text in await lines.Locator("[data-testid=log-line]").AllTextContentsAsync())
        {
            Assert.Contains("POST", text);
        }

        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "logs-filtered.png"), FullPage = true });

        // Clear the filter, scroll up: following pauses and new lines are counted.
        await page.Locator("input[data-testid=log-filter], [data-testid=log-filter] input").First.FillAsync("");
        await WaitForCountAsync(lines, "data-shown", atLeast: 60);
        await lines.EvaluateAsync("el => el.scrollTop = 0");
        await Expect(lines).ToHaveAttributeAsync("data-following", "false");
        await Expect(page.Locator("[data-testid=log-jump]")).ToContainTextAsync(new System.Text.RegularExpressions.Regex("Jump to latest \\([1-9][0-9,]* new\\)"));
        var scrollTop = await lines.EvaluateAsync<double>("el => el.scrollTop");
        Assert.True(scrollTop < 50, $"the view scrolled away from where the reader was ({scrollTop})");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "logs-paused.png"), FullPage = true });

        await page.Locator("[data-testid=log-jump]").ClickAsync();
        await Expect(lines).ToHaveAttributeAsync("data-following", "true");
    }

    /// <summary>Bounded poll of a counter the viewer renders (it changes at most ~10 times a second).</summary>
    private static async Task<int> WaitForCountAsync(ILocator element, string attribute, int atLeast)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var value = 0;
        while (DateTime.UtcNow < deadline)
        {
            value = int.Parse(await element.GetAttributeAsync(attribute) ?? "0");
            if (value >= atLeast)
            {
                return value;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{attribute} stayed at {value}, expected at least {atLeast}");
    }
}
