using System.Diagnostics;
using DeployPortal.Web.Data;
using DeployPortal.Web.Slots;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>Two replicas on one PostgreSQL, a browser on each: what one person does on A, the other sees on B, live.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ReplicaBoardBrowserTests(BrowserFixture browser, ITestOutputHelper output) : IAsyncLifetime
{
    private DeployHarness _h = default!;
    private PortalHost _a = default!;
    private PortalHost _b = default!;

    public async Task InitializeAsync()
    {
        _h = await DeployHarness.CreateAsync(DatabaseProvider.Postgres);
        _a = _h.Host;
        _b = _h.StartHost();
        await Task.WhenAll(_a.Services.GetRequiredService<SlotChangeFanOut>().Listening, _b.Services.GetRequiredService<SlotChangeFanOut>().Listening)
            .WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        await browser.CloseContextsAsync();
        await _h.DisposeAsync();
    }

    [Fact]
    public async Task HoldClaimedOnA_AppearsOnTheBoardOpenOnB_WithoutReload_AndItsReleaseToo()
    {
        var qa = await browser.SignInAsync(_b.Start(), "quinn");
        var onB = qa.Locator("[data-testid=slot-qa-1]");
        await Expect(onB).ToHaveAttributeAsync("data-state", "Free");
        await qa.EvaluateAsync("() => window.__notReloaded = true");

        var dev = await browser.SignInAsync(_a.Start(), "dana");
        var onA = dev.Locator("[data-testid=slot-qa-1]");
        await onA.Locator("[data-testid=claim]").ClickAsync();
        await dev.Locator("[data-testid=claim-purpose]").FillAsync("replica test");
        await dev.Locator("[data-testid=claim-submit]").ClickAsync();
        await Expect(onA).ToHaveAttributeAsync("data-state", "Held");
        var stopwatch = Stopwatch.StartNew();

        // B's board updates by itself: the claim reached B over LISTEN/NOTIFY, B reloaded and pushed the render.
        await Expect(onB).ToHaveAttributeAsync("data-state", "Held", new() { Timeout = 5_000 });
        stopwatch.Stop();
        output.WriteLine($"hold shown on A's board -> shown on B's board: {stopwatch.ElapsedMilliseconds} ms");
        await Expect(onB.Locator("[data-testid=slot-holder]")).ToHaveTextAsync("Dana Developer");
        await Expect(onB.Locator("[data-testid=slot-purpose]")).ToHaveTextAsync("replica test");
        Assert.True(await qa.EvaluateAsync<bool>("() => window.__notReloaded === true"));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"B's board showed the hold {stopwatch.ElapsedMilliseconds} ms after A's did.");
        await qa.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "replica-b-sees-claim-on-a.png"), FullPage = true });

        // And back: QA releases on B, the developer's board on A frees up.
        await onB.Locator("[data-testid=qa-release]").ClickAsync();
        await qa.Locator("[data-testid=qa-pass]").ClickAsync();
        await qa.Locator("[data-testid=qa-submit]").ClickAsync();
        await Expect(onA).ToHaveAttributeAsync("data-state", "Free");
    }
}
