using System.Text.RegularExpressions;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>
/// Issue 22, History as a person reads it after a claim and a QA release by two people: sign-ins hidden until asked
/// for, the outcome as a chip, every time in one format in the reader's zone, and a CSV of exactly the filtered view.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class HistoryBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    [Fact]
    public async Task History_HidesSignIns_ShowsOutcomeChips_OneTimeFormat_AndExportsTheFilteredView()
    {
        var dana = await Browser.SignInAsync(Portal, "dana", 1366, 768);
        await dana.Locator("[data-testid=slot-qa-3] [data-testid=claim]").ClickAsync();
        await dana.Locator("[data-testid=claim-purpose]").FillAsync("history check");
        await dana.ClickAsync("[data-testid=claim-submit]");
        await Expect(dana.Locator(".mud-dialog")).ToHaveCountAsync(0, new() { Timeout = 15_000 }); // the claim went through
        await Expect(dana.Locator("[data-testid=slot-qa-3]")).ToHaveAttributeAsync("data-state", "Held", new() { Timeout = 15_000 });

        var quinn = await Browser.SignInAsync(Portal, "quinn", 390, 844, ColorScheme.Dark);
        await quinn.Locator("[data-testid=slot-qa-3] [data-testid=qa-release]").ClickAsync();
        await quinn.Locator("[data-testid=qa-fail]").ClickAsync();
        await quinn.Locator(".mud-dialog textarea").FillAsync("search box broken");
        await quinn.ClickAsync("[data-testid=qa-submit]");
        await Expect(quinn.Locator("[data-testid=slot-qa-3]")).ToHaveAttributeAsync("data-state", "Free");

        await dana.GotoAsync("/history");
        await BrowserFixture.WaitInteractiveAsync(dana);
        var table = dana.Locator("[data-testid=history]");
        await Expect(table).ToContainTextAsync("QA done");
        await Expect(table).Not.ToContainTextAsync("signed in"); // 2 of the 4 events, hidden by default
        await Expect(dana.Locator("[data-testid=history-outcome]")).ToHaveTextAsync("fail");
        foreach (var details in await dana.Locator("[data-testid=history-details]").AllTextContentsAsync())
        {
            Assert.DoesNotMatch(new Regex(@"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}Z"), details); // no UTC ISO beside local times
        }

        await Expect(dana.Locator("[data-testid=history-details]").Filter(new() { HasText = "history check · until" })).ToContainTextAsync(new Regex(@"until (\d{2}:\d{2}|\w{3} \d{1,2} \w{3} \d{2}:\d{2})$"));
        await dana.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "history-laptop.png"), FullPage = true });

        // The export is the view on screen: without sign-ins now, with them once their kind is switched on.
        var csv = await FetchExportAsync(dana);
        Assert.Contains(csv, l => l.Contains(",qa-done,") && l.Contains("QA fail"));
        Assert.DoesNotContain(csv, l => l.Contains(",sign-in,"));
        await dana.ClickAsync("[data-testid=history-kind-security]");
        await Expect(dana).ToHaveURLAsync(new Regex("[?&]kinds="));
        await Expect(table).ToContainTextAsync("sign-in", new() { Timeout = 15_000 });
        await Expect(dana.Locator("[data-testid=history-export]")).ToHaveAttributeAsync("href", new Regex("kinds="));
        csv = await FetchExportAsync(dana);
        Assert.Equal(2, csv.Count(l => l.Contains(",sign-in,")));
        Assert.Contains(csv, l => l.Contains(",qa-done,"));

        // And the button downloads that file.
        var download = await dana.RunAndWaitForDownloadAsync(() => dana.Locator("[data-testid=history-export]").ClickAsync());
        Assert.Equal(csv, (await File.ReadAllTextAsync(await download.PathAsync())).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries));

        await quinn.GotoAsync("/history");
        await BrowserFixture.WaitInteractiveAsync(quinn);
        await Expect(quinn.Locator("[data-testid=history-outcome]")).ToHaveTextAsync("fail");
        await quinn.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "history-phone-dark.png"), FullPage = true });
    }

    private static async Task<string[]> FetchExportAsync(IPage page)
    {
        var response = await page.APIRequest.GetAsync((await page.Locator("[data-testid=history-export]").GetAttributeAsync("href"))!);
        Assert.True(response.Ok, $"the export answered {response.Status}");
        return (await response.TextAsync()).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
    }
}
