using DeployPortal.Web.Registry;
using DeployPortal.Web.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>The deploy form against Debian's real registry: what is built, what is not, and the digest that then runs.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ImagePreflightBrowserTests(BrowserFixture browser) : IAsyncLifetime
{
    private RegistryServer _registry = default!;
    private DeployHarness _h = default!;
    private Uri _portal = default!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync("ci", "browser-pass");
        _h = await DeployHarness.CreateAsync(startHost: false);
        _h.StartHost(new Dictionary<string, string?>(RegistryHarness.For(_registry.Host, "ci", "browser-pass"))
        {
            ["Apps:Items:0:ImageRepository"] = $"{_registry.Host}/shop/storefront",
            ["Apps:Items:1:ImageRepository"] = $"{_registry.Host}/shop/payments",
        });
        _portal = _h.Host.Start();
    }

    public async Task DisposeAsync()
    {
        await browser.CloseContextsAsync();
        await _h.DisposeAsync();
        await _registry.DisposeAsync();
    }

    [Fact]
    public async Task The_form_says_when_the_image_was_pushed_or_that_it_is_not_built_and_the_board_shows_the_digest_that_runs()
    {
        var pushed = await _registry.PushAsync("shop/storefront", "main", DateTimeOffset.UtcNow.AddMinutes(-4));
        var page = await browser.SignInAsync(_portal, "dana");

        await page.GotoAsync("/deploy?app=storefront&branch=main&slot=qa-1");
        await BrowserFixture.WaitInteractiveAsync(page);
        var line = page.Locator("[data-testid=image-preflight]");
        await Expect(line).ToHaveAttributeAsync("data-state", "Found", new() { Timeout = 15_000 });
        await Expect(line).ToContainTextAsync($"image {_registry.Host}/shop/storefront:main — pushed 4 min ago ({ImageLookup.Short(pushed.Digest)})");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "image-preflight-found.png"), FullPage = true });

        await page.GotoAsync("/deploy?app=payments&branch=main&slot=qa-2");
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(line).ToHaveAttributeAsync("data-state", "Missing", new() { Timeout = 15_000 });
        await Expect(line).ToContainTextAsync($"image {_registry.Host}/shop/payments:main — not built yet");
        await page.SetViewportSizeAsync(390, 844);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "image-preflight-missing-390.png"), FullPage = true });
        await page.SetViewportSizeAsync(1280, 900);

        await _registry.PushAsync("shop/payments", "main", DateTimeOffset.UtcNow); // CI finishes the build
        await page.Locator("[data-testid=image-check-again]").ClickAsync();
        await Expect(line).ToHaveAttributeAsync("data-state", "Found", new() { Timeout = 15_000 });

        await page.GotoAsync("/deploy?app=storefront&branch=main&slot=qa-1");
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(line).ToHaveAttributeAsync("data-state", "Found", new() { Timeout = 15_000 });
        await page.Locator("[data-testid=deploy-purpose]").FillAsync("digest check");
        await page.Locator("[data-testid=deploy-submit]").ClickAsync();
        await BrowserFixture.WaitForDeploymentPageAsync(page, "image-preflight");
        await Expect(page.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=image-digest]")).ToContainTextAsync(ImageLookup.Short(pushed.Digest));
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "deployment-digest.png"), FullPage = true });

        await page.GotoAsync("/");
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=slot-qa-1] [data-testid=running-digest]")).ToHaveTextAsync(ImageLookup.Short(pushed.Digest));
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "board-digest.png"), FullPage = true });
    }
}
