using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>Two people, two browsers, one board: what one does, the other sees live.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BoardLiveTests(BrowserFixture browser) : BrowserTest(browser)
{
    [Fact]
    public async Task Board_DeveloperClaims_QaSeesItLiveAndReleasesWithPass_DeveloperSeesItFree()
    {
        var qa = await Browser.SignInAsync(Portal, "quinn");
        var qaSlot = qa.Locator("[data-testid=slot-qa-1]");
        await Expect(qaSlot).ToHaveAttributeAsync("data-state", "Free");
        await qa.EvaluateAsync("() => window.__notReloaded = true");

        var dev = await Browser.SignInAsync(Portal, "dana");
        var devSlot = dev.Locator("[data-testid=slot-qa-1]");
        await devSlot.Locator("[data-testid=claim]").ClickAsync();
        await dev.Locator("[data-testid=claim-purpose]").FillAsync("payment test");
        await dev.Locator("[data-testid=claim-submit]").ClickAsync();
        await Expect(devSlot).ToHaveAttributeAsync("data-state", "Held");
        await Expect(devSlot.Locator("[data-testid=release]")).ToBeVisibleAsync();
        await dev.EvaluateAsync("() => window.__notReloaded = true");

        // QA's board changes by itself.
        await Expect(qaSlot).ToHaveAttributeAsync("data-state", "Held");
        await Expect(qaSlot.Locator("[data-testid=slot-holder]")).ToHaveTextAsync("Dana Developer");
        await Expect(qaSlot.Locator("[data-testid=slot-purpose]")).ToHaveTextAsync("payment test");
        Assert.True(await qa.EvaluateAsync<bool>("() => window.__notReloaded === true"));
        await qa.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "board-qa-sees-claim.png"), FullPage = true });
        await Expect(qa).ToHaveTitleAsync("Board · DeployPortal"); // PortalTitle, through the board's re-render

        await qaSlot.Locator("[data-testid=qa-release]").ClickAsync();
        await qa.Locator("[data-testid=qa-pass]").ClickAsync();
        await qa.Locator("[data-testid=qa-submit]").ClickAsync();
        await Expect(qaSlot).ToHaveAttributeAsync("data-state", "Free");

        // And the developer's board too.
        await Expect(devSlot).ToHaveAttributeAsync("data-state", "Free");
        Assert.True(await dev.EvaluateAsync<bool>("() => window.__notReloaded === true"));

        await using var db = Database.Factory.CreateDbContext();
        var hold = await db.Holds.SingleAsync();
        Assert.Equal((ReleaseReason.QaDone, QaOutcome.Pass, "Quinn QA"), (hold.ReleaseReason, hold.QaOutcome, hold.ReleasedByName));
    }

    [Fact]
    public async Task Board_ClaimWithoutPurpose_IsExplainedOnTheForm_AndNothingIsClaimed()
    {
        var dev = await Browser.SignInAsync(Portal, "dana");
        await dev.Locator("[data-testid=slot-qa-2] [data-testid=claim]").ClickAsync();
        await dev.Locator("[data-testid=claim-submit]").ClickAsync();

        await Expect(dev.GetByText("Say what you need the slot for.")).ToBeVisibleAsync();
        await dev.Keyboard.PressAsync("Escape");
        await Expect(dev.Locator("[data-testid=slot-qa-2]")).ToHaveAttributeAsync("data-state", "Free");
        await using var db = Database.Factory.CreateDbContext();
        Assert.Equal(0, await db.Holds.CountAsync());
    }

    [Theory]
    [InlineData(1280, 900, "board-desktop.png")]
    [InlineData(390, 844, "board-phone.png")]
    public async Task Board_RendersAtDesktopAndPhoneWidth_WithoutHorizontalScrolling(int width, int height, string file)
    {
        var dev = await Browser.SignInAsync(Portal, "ada", width, height);
        await Expect(dev.Locator("[data-testid=slot-qa-4]")).ToBeVisibleAsync();

        var overflow = await dev.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > document.documentElement.clientWidth");
        await dev.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, file), FullPage = true });
        Assert.False(overflow, "The board scrolls sideways at this width.");
    }
}
