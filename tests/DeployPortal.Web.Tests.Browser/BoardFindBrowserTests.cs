using System.Text.RegularExpressions;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>
/// Issue 22, a board for a team of 40 slots: the quick search keeps every letter typed fast, filters by app and holder
/// live in the address (a link to share), the compact view fits 40 slots on one laptop screen and is remembered, an
/// admin's order comes first, and QA's verdict reaches the holder's board.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class BoardFindBrowserTests(BrowserFixture browser) : BrowserTest(browser)
{
    private const int Laptop = 1366, LaptopHeight = 768, Phone = 390, PhoneHeight = 844;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await TeamBoard.SeedAsync(Database);
    }

    [Fact]
    public async Task QuickSearch_TypedFast_KeepsEveryLetter_AndTheAddressCatchesUp()
    {
        var page = await Browser.SignInAsync(Portal, "dana", Laptop, LaptopHeight);
        var search = page.Locator("[data-testid=board-search]");
        await Expect(page.Locator("[data-testid=slot-qa-40]")).ToBeVisibleAsync();

        await page.Keyboard.PressAsync("/"); // focuses the search, as the page says
        await Expect(search).ToBeFocusedAsync();
        await search.PressSequentiallyAsync("feature/checkout-redesign", new() { Delay = 0 });

        await Expect(search).ToHaveValueAsync("feature/checkout-redesign");
        await Expect(page).ToHaveURLAsync(QueryIs("feature(%2F|/)checkout-redesign"));
        await Expect(page.Locator("[data-testid=board] .portal-board-cell > [data-state]")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-testid=slot-qa-2]")).ToBeVisibleAsync();
        await Expect(search).ToHaveValueAsync("feature/checkout-redesign"); // the late echoes of each keystroke did not undo it

        // Rubbing it out fast and typing what matches nothing: the field still ends right, and Clear empties it.
        await search.PressAsync("Control+a");
        await search.PressSequentiallyAsync("zz-no-such-slot-anywhere", new() { Delay = 0 });
        await Expect(search).ToHaveValueAsync("zz-no-such-slot-anywhere");
        await Expect(page.Locator("[data-testid=board-no-match]")).ToContainTextAsync("zz-no-such-slot-anywhere");
        await Expect(page).ToHaveURLAsync(QueryIs("zz-no-such-slot-anywhere"));
        await page.ClickAsync("[data-testid=board-clear-filters]");
        await Expect(search).ToHaveValueAsync("");
        await Expect(page).Not.ToHaveURLAsync(new Regex("[?&]q="));
        await Expect(page.Locator("[data-testid=board] .portal-board-cell > [data-state]")).ToHaveCountAsync(40);
    }

    [Fact]
    public async Task AppAndHolderFilters_LiveInTheAddress_SoAnotherPersonOpensTheSameBoard()
    {
        var dana = await Browser.SignInAsync(Portal, "dana", Laptop, LaptopHeight);
        await dana.Locator("[data-testid=board-app]").SelectOptionAsync("catalog");
        await Expect(dana).ToHaveURLAsync(new Regex("[?&]app=catalog"));
        await Expect(Cards(dana)).ToHaveCountAsync(2); // qa-2 (Devon) and qa-3 (Quinn) run catalog
        await dana.Locator("[data-testid=board-holder]").SelectOptionAsync("dev:devon");
        await Expect(dana).ToHaveURLAsync(new Regex("[?&]holder=dev%3Adevon|[?&]holder=dev:devon"));
        await Expect(Cards(dana)).ToHaveCountAsync(1);
        await Expect(dana.Locator("[data-testid=slot-qa-2]")).ToBeVisibleAsync();
        await Expect(dana.Locator("[data-testid=board-summary], .portal-page-head")).ToContainTextAsync("showing 1");

        var quinn = await Browser.SignInAsync(Portal, "quinn", Phone, PhoneHeight);
        await quinn.GotoAsync(dana.Url);
        await BrowserFixture.WaitInteractiveAsync(quinn);
        await Expect(Cards(quinn)).ToHaveCountAsync(1);
        await Expect(quinn.Locator("[data-testid=slot-qa-2]")).ToBeVisibleAsync();
        await Expect(quinn.Locator("[data-testid=board-app]")).ToHaveValueAsync("catalog");
        await Expect(quinn.Locator("[data-testid=board-holder]")).ToHaveValueAsync("dev:devon");
        await Shot(quinn, "board-filtered-phone");

        // A holder with nothing held any more, from an old link: said plainly, with a way back.
        await quinn.GotoAsync("/?holder=dev:nobody");
        await BrowserFixture.WaitInteractiveAsync(quinn);
        await Expect(quinn.Locator("[data-testid=board-no-match]")).ToContainTextAsync("holder");
        await quinn.ClickAsync("[data-testid=board-clear-filters]");
        await Expect(Cards(quinn)).ToHaveCountAsync(40);
    }

    [Theory]
    [InlineData(ColorScheme.Light, "light")]
    [InlineData(ColorScheme.Dark, "dark")]
    public async Task CompactView_Shows40SlotsOnOneLaptopScreen_AndIsRemembered(ColorScheme scheme, string name)
    {
        var page = await Browser.SignInAsync(Portal, "dana", Laptop, LaptopHeight, scheme);
        await Expect(Cards(page)).ToHaveCountAsync(40);
        Assert.True(await LowestCardBottomAsync(page) > LaptopHeight, "the full cards need more than one screen");
        await Shot(page, $"board-full-{name}");

        await page.ClickAsync("[data-testid=board-compact]");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-compact", "");
        await Expect(page.Locator("[data-testid=board-compact]")).ToHaveAttributeAsync("aria-pressed", "true");
        var bottom = await LowestCardBottomAsync(page);
        await Shot(page, $"board-compact-{name}", fullPage: false);
        Assert.True(bottom <= LaptopHeight, $"40 compact cards end at {bottom}px on a {LaptopHeight}px screen");

        await page.ReloadAsync(); // remembered: the server renders the choice from its cookie
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-compact", "");
        Assert.True(await LowestCardBottomAsync(page) <= LaptopHeight);

        await page.SetViewportSizeAsync(Phone, PhoneHeight);
        await Shot(page, $"board-compact-phone-{name}");
        await page.ClickAsync("[data-testid=board-compact]");
        await Expect(page.Locator("html")).Not.ToHaveAttributeAsync("data-compact", new Regex(".*"));
    }

    [Fact]
    public async Task AnAdminsOrder_PutsASlotFirst()
    {
        var ada = await Browser.SignInAsync(Portal, "ada", Laptop, LaptopHeight);
        await ada.ClickAsync("[aria-label='Admin actions for qa-17']");
        await ada.GetByText("Edit slot").ClickAsync();
        await ada.Locator("[data-testid=slot-position]").FillAsync("1"); // out-of-range numbers: SlotAdmin's tests
        await ada.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        await Expect(Cards(ada).First).ToHaveAttributeAsync("data-testid", "slot-qa-17");
        await Expect(Cards(ada).Nth(1)).ToHaveAttributeAsync("data-testid", "slot-qa-1");
        await Expect(Cards(ada).Nth(17)).ToHaveAttributeAsync("data-testid", "slot-qa-18"); // natural order after it
    }

    [Fact]
    public async Task QaVerdict_ReachesTheHoldersBoard_OnTheFreeCard()
    {
        var dana = await Browser.SignInAsync(Portal, "dana", Laptop, LaptopHeight);
        var quinn = await Browser.SignInAsync(Portal, "quinn", Phone, PhoneHeight, ColorScheme.Dark);
        await quinn.Locator("[data-testid=slot-qa-1] [data-testid=qa-release]").ClickAsync();
        await quinn.Locator("[data-testid=qa-fail]").ClickAsync();
        await quinn.Locator(".mud-dialog textarea").First.FillAsync("checkout button missing");
        await quinn.ClickAsync("[data-testid=qa-submit]");

        var verdict = dana.Locator("[data-testid=slot-qa-1] [data-testid=slot-verdict]");
        await Expect(verdict).ToHaveAttributeAsync("data-outcome", "Fail");
        await Expect(verdict).ToContainTextAsync("QA failed");
        await Expect(verdict).ToContainTextAsync("checkout button missing");
        await Expect(verdict).ToContainTextAsync("Quinn QA for Dana Developer");
        await Expect(dana.Locator("[data-testid=slot-qa-1]")).ToHaveAttributeAsync("data-state", "Free");
        await Shot(dana, "board-verdict-laptop", fullPage: false);
        await Expect(quinn.Locator("[data-testid=slot-qa-1] [data-testid=slot-verdict]")).ToContainTextAsync("QA failed");
        await Shot(quinn, "board-verdict-phone-dark", fullPage: false);

        await dana.Locator("[data-testid=slot-qa-1] [data-testid=claim]").ClickAsync();
        await dana.Locator("[data-testid=claim-purpose]").FillAsync("try again");
        await dana.ClickAsync("[data-testid=claim-submit]");
        await Expect(dana.Locator("[data-testid=slot-qa-1]")).ToHaveAttributeAsync("data-state", "Held");
        await Expect(dana.Locator("[data-testid=slot-qa-1] [data-testid=slot-verdict]")).ToHaveCountAsync(0);
    }

    private static ILocator Cards(IPage page) => page.Locator("[data-testid=board] .portal-board-cell > [data-state]");

    private static Regex QueryIs(string pattern) => new($"[?&]q={pattern}($|&)");

    private static Task<double> LowestCardBottomAsync(IPage page) => page.EvaluateAsync<double>(
        "() => { scrollTo(0, 0); return Math.max(...[...document.querySelectorAll('[data-testid=board] .portal-board-cell > [data-state]')].map(c => c.getBoundingClientRect().bottom)); }");

    private static Task Shot(IPage page, string name, bool fullPage = true) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"{name}.png"), FullPage = fullPage });
}
