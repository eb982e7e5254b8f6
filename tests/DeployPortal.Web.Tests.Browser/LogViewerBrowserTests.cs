using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>Live logs as a person uses them: deploy in the embedded default, watch lines arrive, filter, scroll up.</summary>
[Collection(BrowserCollection.Name)]
public sealed class LogViewerBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    protected override PortalHost CreateHost(TestDatabase database) => PortalHost.EmbeddedDefault(database, new Dictionary<string, string?> { ["Cluster:Emulator:LogLinesPerSecond"] = "40" });

    [Fact]
    public async Task Logs_AfterADeploy_ArriveLive_FilterAsYouType_AndScrollingUpPausesFollowing()
    {
        var page = await Browser.SignInAsync(Portal, "devon");
        await page.GotoAsync("/deploy?app=payments&branch=main&slot=qa-3");
        await BrowserFixture.WaitInteractiveAsync(page);
        await page.Locator("[data-testid=deploy-purpose]").FillAsync("log check");
        await Expect(page.Locator("[data-testid=deploy-preflight]")).ToContainTextAsync("(log check)"); // the form has it: see DeployTests
        await page.Locator("[data-testid=deploy-submit]").ClickAsync();
        await BrowserFixture.WaitForDeploymentPageAsync(page, "logs-live");
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
        await lines.HoverAsync();
        await page.Mouse.WheelAsync(0, -1_000_000); // as a reader does: the mouse wheel, to the top
        await Expect(lines).ToHaveAttributeAsync("data-following", "false");
        await Expect(page.Locator("[data-testid=log-jump]")).ToContainTextAsync(new System.Text.RegularExpressions.Regex("Jump to latest \\([1-9][0-9,]* new\\)"));
        // The wheel scrolls smoothly over a few frames (late ones on a busy machine): the view must leave the bottom and
        // stay away from it, still paused, i.e. not be pulled back down.
        var view = await lines.ElementHandleAsync();
        const string awayFromTheEnd = "el => el.scrollHeight - el.clientHeight - el.scrollTop > 300";
        await page.WaitForFunctionAsync(awayFromTheEnd, view);
        await Expect(lines).ToHaveAttributeAsync("data-following", "false");
        Assert.True(await view.EvaluateAsync<bool>(awayFromTheEnd), "the view was pulled back to the newest line while the reader was reading above");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "logs-paused.png"), FullPage = true });

        await page.Locator("[data-testid=log-jump]").ClickAsync();
        await Expect(lines).ToHaveAttributeAsync("data-following", "true");
    }

    [Fact]
    public async Task SlotPage_ShowsTheHoldAndLiveLogs_StartsFromAChosenTail_AndDownloadsTheWholeLogMergedByTime()
    {
        var page = await Browser.SignInAsync(Portal, "devon");
        await page.GotoAsync("/deploy?app=storefront&branch=feature/login&slot=qa-2");
        await BrowserFixture.WaitInteractiveAsync(page);
        await page.Locator("[data-testid=deploy-purpose]").FillAsync("slot page check");
        await Expect(page.Locator("[data-testid=deploy-preflight]")).ToContainTextAsync("(slot page check)"); // the form has it: see DeployTests
        await page.Locator("[data-testid=deploy-submit]").ClickAsync();
        await BrowserFixture.WaitForDeploymentPageAsync(page, "slot-page");
        await Expect(page.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 30_000 });

        // The board's slot name leads to the slot page, a link that can be shared.
        await page.GotoAsync("/");
        await BrowserFixture.WaitInteractiveAsync(page);
        await page.Locator("[data-testid=slot-qa-2] [data-testid=slot-link]").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/slots/qa-2$")); // polled: see BrowserFixture.WaitForDeploymentPageAsync
        await Expect(page.Locator("[data-testid=slot-holder]")).ToHaveTextAsync("Devon Developer");
        await Expect(page.Locator("[data-testid=slot-deployment-storefront]")).ToContainTextAsync("storefront@feature/login");
        await Expect(page.Locator("[data-testid=slot-history-row]")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-testid=slot-history-end]")).ToHaveTextAsync("still held");

        // Both pods' lines arrive live.
        await BrowserFixture.WaitInteractiveAsync(page);
        var lines = page.Locator("[data-testid=log-lines]");
        var before = await WaitForCountAsync(lines, "data-count", atLeast: 320);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "slot-page.png"), FullPage = true });

        // Starting from the last 100 lines of each pod: the view starts over from a read of the cluster, then follows.
        await page.Locator("[data-testid=log-tail]").ClickAsync();
        await page.GetByText("last 100 lines").ClickAsync();
        var restarted = await WaitForCountAsync(lines, "data-count", atMost: 260);
        await WaitForCountAsync(lines, "data-count", atLeast: restarted + 20);
        await Expect(lines).ToHaveAttributeAsync("data-following", "true");

        // The whole log, from the cluster, both pods merged by time.
        await page.Locator("[data-testid=log-download-menu] button").ClickAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("[data-testid=log-download-all]").ClickAsync());
        Assert.StartsWith("storefront-qa-2-", download.SuggestedFilename);
        var text = await File.ReadAllLinesAsync(await download.PathAsync());
        Assert.True(text.Length > before, $"the whole log has {text.Length} lines, fewer than the {before} the viewer had shown");
        var parsed = text.Where(l => l.Length > 0).Select(l => (Time: DateTimeOffset.Parse(l[..l.IndexOf(' ')]), Pod: l[(l.IndexOf('[') + 1)..l.IndexOf(']')])).ToList();
        Assert.Equal(2, parsed.Select(p => p.Pod).Distinct().Count());
        Assert.All(parsed.Zip(parsed.Skip(1)), p => Assert.True(p.First.Time <= p.Second.Time, $"{p.First.Time:O} then {p.Second.Time:O}"));

        // Bad requests change nothing and say why; without a session there is no log at all.
        Assert.Equal(404, (await page.APIRequest.GetAsync("/logs/qa-9/storefront")).Status);
        Assert.Equal(404, (await page.APIRequest.GetAsync("/logs/qa-2/storefront?pod=payments-1")).Status);
        await using var stranger = await Browser.Browser.NewContextAsync(new() { BaseURL = Portal.ToString() });
        var anonymous = await stranger.APIRequest.GetAsync("/logs/qa-2/storefront", new() { MaxRedirects = 0 });
        Assert.NotEqual(200, anonymous.Status);
    }

    /// <summary>Bounded poll of a counter the viewer renders (it changes at most ~10 times a second).</summary>
    private static async Task<int> WaitForCountAsync(ILocator element, string attribute, int atLeast = 0, int atMost = int.MaxValue)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var value = 0;
        while (DateTime.UtcNow < deadline)
        {
            value = int.Parse(await element.GetAttributeAsync(attribute) ?? "0");
            if (value >= atLeast && value <= atMost)
            {
                return value;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{attribute} stayed at {value}, expected between {atLeast} and {atMost}");
    }
}
