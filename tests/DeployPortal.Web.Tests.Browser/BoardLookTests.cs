using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>
/// The board's cards in every state, as a developer (cards with buttons) and as a viewer (cards as shared markup),
/// in a real browser: they are styled (a raised card, coloured chips and buttons), and screenshots
/// (<c>board-look-*.png</c> in <see cref="BrowserFixture.ScreenshotFolder"/>) show how they look for a person to compare.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BoardLookTests(BrowserFixture browser) : BrowserTest(browser)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await SeedAsync();
    }

    [Theory]
    [InlineData("dana", "board-look-developer.png")]
    [InlineData("viewer", "board-look-viewer.png")]
    public async Task Board_CardsInEveryState_AreStyled(string person, string file)
    {
        var page = await Browser.SignInAsync(Portal, person);
        var held = page.Locator("[data-testid=slot-qa-1]");
        await Expect(held).ToHaveAttributeAsync("data-state", "Held");
        await Expect(page.Locator("[data-testid=slot-qa-2]")).ToHaveAttributeAsync("data-state", "Expiring");
        await Expect(page.Locator("[data-testid=slot-qa-3]")).ToHaveAttributeAsync("data-state", "Disabled");
        await Expect(page.Locator("[data-testid=slot-qa-4]")).ToHaveAttributeAsync("data-state", "Free");
        // Hostile text is shown as text, not taken as markup.
        await Expect(page.Locator("[data-testid=slot-qa-2] [data-testid=slot-purpose]")).ToHaveTextAsync(HostilePurpose);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, file), FullPage = true });

        var card = await held.EvaluateAsync<string>("e => getComputedStyle(e).boxShadow");
        Assert.NotEqual("none", card);
        var (free, freeText) = await Colours(page, "[data-testid=slot-qa-4] [data-testid=slot-state]");
        Assert.NotEqual("rgba(0, 0, 0, 0)", free); // a filled chip
        Assert.NotEqual(free, freeText);
        var (deployment, _) = await Colours(page, "[data-testid=slot-qa-1] [data-testid=deployment-state]");
        Assert.NotEqual("rgba(0, 0, 0, 0)", deployment);
        var head = await page.Locator("[data-testid=slot-qa-1] [data-testid=slot-link]").EvaluateAsync<double>("e => parseFloat(getComputedStyle(e).fontSize)");
        Assert.True(head >= 18, $"the slot's name is a heading: {head}px");
        if (person == "dana")
        {
            var (claim, claimText) = await Colours(page, "[data-testid=slot-qa-4] [data-testid=claim]");
            Assert.NotEqual("rgba(0, 0, 0, 0)", claim); // a filled button
            Assert.NotEqual(claim, claimText);
        }
    }

    private const string HostilePurpose = "<b>bold</b> & \"quoted\" <script>alert(1)</script>";

    private static async Task<(string Background, string Text)> Colours(IPage page, string selector)
    {
        var colours = await page.Locator(selector).First.EvaluateAsync<string[]>("e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]");
        return (colours[0], colours[1]);
    }

    /// <summary>qa-1 Dana's with a deployment, qa-2 Devon's ending in 10 minutes, qa-3 disabled, qa-4 free.</summary>
    private async Task SeedAsync()
    {
        var now = DateTime.UtcNow;
        await using var db = Database.Factory.CreateDbContext();
        var slots = await db.Slots.OrderBy(s => s.Name).ToListAsync();
        var mine = new Hold
        {
            SlotId = slots[0].Id,
            HolderId = "dev:dana",
            HolderName = "Dana Developer",
            Purpose = "checkout redesign",
            Since = now.AddMinutes(-30),
            Until = now.AddHours(2),
            LastActivityAt = now.AddMinutes(-5),
        };
        var theirs = new Hold
        {
            SlotId = slots[1].Id,
            HolderId = "dev:devon",
            HolderName = "Devon Developer",
            Purpose = HostilePurpose,
            Since = now.AddHours(-2),
            Until = now.AddMinutes(10),
            LastActivityAt = now.AddMinutes(-2),
        };
        db.Holds.AddRange(mine, theirs);
        slots[2].Enabled = false;
        await db.SaveChangesAsync();
        db.Deployments.Add(new Deployment
        {
            SlotId = slots[0].Id,
            HoldId = mine.Id,
            App = "storefront",
            Branch = "feature/checkout",
            Commit = "0123456789abcdef0123456789abcdef01234567",
            RequestedById = "dev:dana",
            RequestedByName = "Dana Developer",
            State = DeploymentState.Succeeded,
            CreatedAt = now.AddMinutes(-29),
            StartedAt = now.AddMinutes(-29),
            FinishedAt = now.AddMinutes(-28),
        });
        await db.SaveChangesAsync();
    }
}
