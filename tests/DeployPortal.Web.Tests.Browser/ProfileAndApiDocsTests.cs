using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>Personal access tokens from the profile page, and the API reference page, in a real browser under the CSP.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ProfileAndApiDocsTests(BrowserFixture browser) : BrowserTest(browser)
{
    private readonly List<string> _console = [];

    [Fact]
    public async Task Profile_CreatedToken_IsShownOnce_WorksForTheApi_AndStopsWorkingOnceRevoked()
    {
        var page = await SignInAsync("dana");
        await page.GotoAsync("/profile");
        await BrowserFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator("[data-testid=tokens-empty]")).ToBeVisibleAsync();

        await page.Locator("[data-testid=token-name]").FillAsync("ci-pipeline");
        await page.ClickAsync("[data-testid=token-create]");
        var secret = (await page.Locator("[data-testid=token-secret]").TextContentAsync())!.Trim();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "profile-token-created.png"), FullPage = true });

        Assert.StartsWith("dp_", secret);
        Assert.Equal(HttpStatusCode.OK, await ListSlotsStatusAsync(secret));

        // Shown once: after a reload only the prefix remains.
        await page.ReloadAsync();
        await BrowserFixture.WaitInteractiveAsync(page);
        var row = page.Locator("[data-testid^=token-][data-state]");
        await Expect(row).ToHaveAttributeAsync("data-state", "Active");
        Assert.DoesNotContain(secret, await page.ContentAsync());

        // Revoking asks first; "Keep it" changes nothing.
        await row.Locator("[data-testid=token-revoke]").ClickAsync();
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Keep it" }).ClickAsync();
        await Expect(row).ToHaveAttributeAsync("data-state", "Active");
        Assert.Equal(HttpStatusCode.OK, await ListSlotsStatusAsync(secret));

        await row.Locator("[data-testid=token-revoke]").ClickAsync();
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(row).ToHaveAttributeAsync("data-state", "Revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, await ListSlotsStatusAsync(secret));
        Assert.DoesNotContain(_console, m => m.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Admin_SignsAPersonOutEverywhere_AndRevokesTheirToken_TheirOpenPageAndTokenStopAtOnce()
    {
        // Dana, with a token, on the board in her own Browser.
        var dana = await SignInAsync("dana");
        await dana.GotoAsync("/profile");
        await BrowserFixture.WaitInteractiveAsync(dana);
        await dana.Locator("[data-testid=token-name]").FillAsync("nightly");
        await dana.ClickAsync("[data-testid=token-create]");
        var secret = (await dana.Locator("[data-testid=token-secret]").TextContentAsync())!.Trim();
        await dana.GotoAsync("/");
        await BrowserFixture.WaitInteractiveAsync(dana);

        var ada = await SignInAsync("ada");
        await ada.GotoAsync("/profile");
        await BrowserFixture.WaitInteractiveAsync(ada);
        var person = ada.Locator("[data-testid='person-dev:dana']");
        await Expect(person).ToContainTextAsync("Dana Developer");
        await ada.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "profile-admin-access.png"), FullPage = true });

        await person.Locator("[data-testid=person-signout]").ClickAsync();
        await ada.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(person).ToHaveCountAsync(0);
        await Expect(dana.Locator("[data-testid=session-ended]")).ToBeVisibleAsync();
        // Her page keeps what she typed, but the next page asks her to sign in rather than opening with the ended session.
        await dana.Locator("[data-testid=nav-history]").ClickAsync();
        await Expect(dana).ToHaveURLAsync(new Regex("/signin\\?ReturnUrl=%2Fhistory$"));
        await Expect(dana.Locator("[data-testid=history-slot]")).ToHaveCountAsync(0);

        var token = ada.Locator("[data-testid=all-tokens] tr", new() { HasText = "nightly" });
        await token.Locator("[data-testid=any-token-revoke]").ClickAsync();
        await ada.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(token).ToHaveCountAsync(0);
        Assert.Equal(HttpStatusCode.Unauthorized, await ListSlotsStatusAsync(secret));
    }

    [Fact]
    public async Task ApiDocs_RendersTheReference_WithoutContentSecurityPolicyViolations()
    {
        var page = await SignInAsync("ada");

        // The reference is one large script (bundled, not from a CDN); on a loaded machine it needs more than 15 s.
        await page.GotoAsync("/api/docs", new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 60_000 });

        await Expect(page.GetByText("DeployPortal API").First).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(page.GetByText("/api/v1/slots/{slotId}/claim").First).ToBeAttachedAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "api-docs.png") });
        Assert.DoesNotContain(_console, m => m.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task JobsDashboard_AsAdmin_LoadsWithoutContentSecurityPolicyViolations()
    {
        var page = await SignInAsync("ada");

        await page.GotoAsync("/jobs/recurring");

        await Expect(page.GetByText("expire-holds").First).ToBeVisibleAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "jobs-dashboard.png") });
        Assert.DoesNotContain(_console, m => m.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Board_UnderTheContentSecurityPolicy_LoadsWithoutViolations()
    {
        var page = await SignInAsync("quinn");

        await Expect(page.Locator("[data-testid=slot-qa-1]")).ToBeVisibleAsync();

        Assert.DoesNotContain(_console, m => m.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase));
    }

    private async Task<IPage> SignInAsync(string user)
    {
        var page = await Browser.SignInAsync(Portal, user);
        page.Console += (_, message) => _console.Add(message.Text);
        // Violations reported before the handler was attached are caught by reloading with it attached.
        await page.ReloadAsync();
        await BrowserFixture.WaitInteractiveAsync(page);
        return page;
    }

    private async Task<HttpStatusCode> ListSlotsStatusAsync(string secret)
    {
        using var client = Host.CreateLoopbackClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/slots");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return (await client.SendAsync(request)).StatusCode;
    }
}
