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

    [Fact]
    public async Task An_image_not_built_yet_can_be_deployed_as_soon_as_it_is_built_shown_waiting_and_cancelled_after_confirming()
    {
        var page = await browser.SignInAsync(_portal, "dana");
        await page.GotoAsync("/deploy?app=payments&branch=main&slot=qa-2");
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=image-preflight]")).ToHaveAttributeAsync("data-state", "Missing", new() { Timeout = 15_000 });
        await Expect(page.Locator("[data-testid=deploy-submit]")).ToHaveCountAsync(0); // the form offers to wait instead
        await Expect(page.Locator("[data-testid=when-built-note]")).ToContainTextAsync("gives up after 45 min");
        await page.Locator("[data-testid=deploy-purpose]").FillAsync("payments when built");
        await page.Locator("[data-testid=deploy-when-built]").ClickAsync();

        await BrowserFixture.WaitForDeploymentPageAsync(page, "deploy-when-built");
        await Expect(page.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "WaitingForImage");
        await Expect(page.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveTextAsync("Waiting for image");
        await Expect(page.Locator("[data-testid=image-wait-sentence]")).ToContainTextAsync($"waiting for image {_registry.Host}/shop/payments:main — checked less than a minute ago, gives up at ");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "deployment-waiting-for-image.png"), FullPage = true });
        await page.SetViewportSizeAsync(390, 844);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "deployment-waiting-for-image-390.png"), FullPage = true });
        await page.SetViewportSizeAsync(1280, 900);
        var deployment = page.Url;

        await page.GotoAsync("/");
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=slot-qa-2] [data-testid=image-wait]")).ToContainTextAsync($"waiting for image {_registry.Host}/shop/payments:main — checked");
        await Expect(page.Locator("[data-testid=slot-qa-2] [data-testid=slot-holder]")).ToHaveTextAsync("Dana Developer"); // held while it waits
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "board-waiting-for-image.png"), FullPage = true });

        await page.GotoAsync(deployment);
        await BrowserFixture.WaitInteractiveAsync(page);
        await page.Locator("[data-testid=cancel-deployment]").ClickAsync();
        var dialog = page.Locator(".mud-dialog");
        await Expect(dialog).ToContainTextAsync("one waiting for its image, never starts");
        await dialog.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Keep going" }).ClickAsync();
        await Expect(page.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "WaitingForImage");
        await page.Locator("[data-testid=cancel-deployment]").ClickAsync();
        await dialog.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Cancel deployment" }).ClickAsync();
        await Expect(page.Locator("[data-testid=deployment-header] [data-testid=deployment-state]")).ToHaveAttributeAsync("data-state", "Cancelled", new() { Timeout = 15_000 });
        await Expect(page.Locator("[data-testid=image-wait]")).ToHaveCountAsync(0);
    }
}
