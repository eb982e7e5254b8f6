using DeployPortal.Web.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class CircuitLimitBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    protected override PortalHost CreateHost(TestDatabase database) => new PortalHost(database, settings: new Dictionary<string, string?> { ["Auth:Session:MaxCircuitsPerUser"] = "1" });

    [Fact]
    public async Task SecondTab_BeyondTheCircuitLimit_GetsNoInteractiveSession_TheFirstKeepsWorking()
    {
        var first = await Browser.SignInAsync(Portal, "dana");

        var second = await first.Context.NewPageAsync();
        await second.GotoAsync("/");

        await Expect(second.Locator("#blazor-error-ui")).ToBeVisibleAsync();
        Assert.Equal(0, await second.Locator("[data-testid=interactive]").CountAsync());
        // The first tab is still live: a claim there works.
        await first.Locator("[data-testid=slot-qa-1] [data-testid=claim]").ClickAsync();
        await first.Locator("[data-testid=claim-purpose]").FillAsync("still working");
        await first.Locator("[data-testid=claim-submit]").ClickAsync();
        await Expect(first.Locator("[data-testid=slot-qa-1]")).ToHaveAttributeAsync("data-state", "Held");
    }
}
