using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>
/// PostgreSQL goes away under an open board (a TCP forwarder in front of it is cut, as a network outage does): the board
/// keeps the last state and says since when, and catches up when the database is back. The deploy form opened in the
/// outage says what went wrong and loads on "Try again" once the database is back.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BoardOutageBrowserTests(BrowserFixture browser) : IAsyncLifetime
{
    private TestDatabase _database = default!;
    private TcpProxy _proxy = default!;
    private PortalHost _host = default!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
        var target = new NpgsqlConnectionStringBuilder(_database.ConnectionString);
        _proxy = new TcpProxy(target.Host!, target.Port);
        _host = new PortalHost(_database, settings: new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = new NpgsqlConnectionStringBuilder(_database.ConnectionString) { Host = "127.0.0.1", Port = _proxy.Port, Timeout = 3 }.ConnectionString,
        });
        _host.Start();
        await _host.Services.GetRequiredService<SlotChangeFanOut>().Listening.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        await browser.CloseContextsAsync();
        await _proxy.DisposeAsync();
        await _host.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Board_WhileTheDatabaseIsDown_KeepsTheLastState_ShowsLiveUpdatesPaused_AndCatchesUpAfter()
    {
        var page = await browser.SignInAsync(_host.Start(), "quinn");
        var card = page.Locator("[data-testid=slot-qa-1]");
        await Expect(card).ToHaveAttributeAsync("data-state", "Free");
        var paused = page.Locator("[data-testid=board-paused]");
        await Expect(paused).ToHaveCountAsync(0);

        _proxy.Cut();

        await Expect(paused).ToContainTextAsync("Live updates paused — showing the state at ");
        await Expect(paused).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"at \d\d:\d\d:\d\d\."));
        await Expect(card).ToHaveAttributeAsync("data-state", "Free"); // the last state, not an error in its place
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "board-live-updates-paused.png"), FullPage = true });

        _proxy.Restore();

        await Expect(paused).ToHaveCountAsync(0, new() { Timeout = 30_000 }); // the listener retries with backoff up to 10 s
        await Expect(card).ToHaveAttributeAsync("data-state", "Free");
    }

    [Fact]
    public async Task Board_WhenItsCircuitIsCutOff_SaysLiveUpdatesPaused_WithTheTime_AndKeepsTheCards()
    {
        var page = await browser.SignInAsync(_host.Start(), "quinn");
        var card = page.Locator("[data-testid=slot-qa-1]");
        await Expect(card).ToHaveAttributeAsync("data-state", "Free");
        var paused = page.Locator("[data-testid=live-paused]");
        await Expect(paused).ToBeHiddenAsync();

        await _host.DisposeAsync(); // the portal goes away: the page's WebSocket closes

        await Expect(paused).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(paused).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"Live updates paused — showing the state at \d\d:\d\d:\d\d\."));
        await Expect(card).ToHaveAttributeAsync("data-state", "Free");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "board-circuit-lost.png"), FullPage = true });
    }

    [Fact]
    public async Task Deploy_WhenTheSlotsCannotBeRead_SaysSo_AndTryAgainLoadsTheForm()
    {
        var page = await browser.SignInAsync(_host.Start(), "dana");
        await Expect(page.Locator("[data-testid=slot-qa-1]")).ToBeVisibleAsync();

        _proxy.Cut();
        await page.Locator("[data-testid=nav-deploy]").ClickAsync(); // in the circuit: no new request to sign in with

        var error = page.Locator("[data-testid=deploy-load-error]");
        await Expect(error).ToContainTextAsync("could not be loaded: the database did not answer.", new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=deploy-slot]")).ToHaveCountAsync(0);

        _proxy.Restore();
        await page.Locator("[data-testid=deploy-load-error-retry]").ClickAsync();

        await Expect(page.Locator("[data-testid=deploy-slot]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(error).ToHaveCountAsync(0);
    }
}
