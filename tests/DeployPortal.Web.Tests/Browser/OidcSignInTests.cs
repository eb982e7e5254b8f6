using DeployPortal.Web.Audit;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

[CollectionDefinition(Name)]
public sealed class OidcCollection : ICollectionFixture<BrowserFixture>, ICollectionFixture<OidcServer>
{
    public const string Name = "oidc";
}

/// <summary>Signing in through a real OpenID Connect provider (OpenIddict, in process) in a real browser.</summary>
[Collection(OidcCollection.Name)]
public sealed class OidcSignInTests(BrowserFixture browser, OidcServer idp) : IAsyncLifetime
{
    private TestDatabase _database = default!;
    private PortalHost? _host;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);

    public async Task DisposeAsync()
    {
        await browser.CloseContextsAsync();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    [Theory]
    [InlineData("val", "Val Viewer · Viewer")]
    [InlineData("dana", "Dana Developer · Developer")]
    [InlineData("quinn", "Quinn QA · QA")]
    [InlineData("ada", "Ada Admin · Admin")]
    public async Task SignIn_ThroughTheIdentityProvider_MapsGroupsToThePortalRole(string user, string expectedChip)
    {
        var page = await SignInAsync(await StartPortalAsync(), user);

        await Expect(page.Locator("[data-testid=current-user]")).ToContainTextAsync(expectedChip);
        Assert.DoesNotContain("Development sign-in", await page.ContentAsync());
        var signIn = await SingleAuditAsync(AuditActions.SignIn);
        Assert.Equal(user, signIn.ActorId);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"oidc-signed-in-{user}.png") });
    }

    [Fact]
    public async Task SignIn_UserWithNoMappedGroup_WhenUnmappedUsersAreRefused_IsDeniedAndAudited()
    {
        var portal = await StartPortalAsync(unmappedUsers: "Refuse");

        var page = await SignInAsync(portal, "val", expectBoard: false);

        await Expect(page.Locator("[data-testid=signin-denied]")).ToBeVisibleAsync();
        Assert.StartsWith("/signin", new Uri(page.Url).AbsolutePath);
        var cookies = await page.Context.CookiesAsync([portal.ToString()]);
        Assert.DoesNotContain(cookies, c => c.Name == "deployportal.auth");
        var refused = await SingleAuditAsync(AuditActions.SignInRefused);
        Assert.Equal(("val", "Val Viewer"), (refused.ActorId, refused.ActorName));
        Assert.Empty(await AuditAsync(AuditActions.SignIn));
        // And the board stays closed to them.
        await page.GotoAsync("/");
        Assert.StartsWith("/signin", new Uri(page.Url).AbsolutePath);
    }

    [Fact]
    public async Task Session_PastTheRefreshThreshold_IsRefreshed_AndPicksUpGroupChanges_UntilTheProviderRefuses()
    {
        var page = await SignInAsync(await StartPortalAsync(), "riley");
        await Expect(page.Locator("[data-testid=current-user]")).ToContainTextAsync("Riley Refresh · QA");

        // The provider's access tokens live 2 minutes, inside the portal's 5-minute refresh window, so the
        // next request refreshes. Riley has left the QA team meanwhile.
        idp.Users["riley"].Groups = ["staff"];
        var refreshesBefore = idp.RefreshGrants;
        await page.ReloadAsync();
        await BrowserFixture.WaitInteractiveAsync(page);

        await Expect(page.Locator("[data-testid=current-user]")).ToContainTextAsync("Riley Refresh · Viewer");
        Assert.True(idp.RefreshGrants > refreshesBefore, "the portal did not use the refresh token");

        // Once the provider refuses to refresh (account disabled), the portal session ends.
        idp.Users["riley"].Disabled = true;
        await page.ReloadAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/signin");
        // Concurrent requests (the page, the circuit) may each notice; at least one records it.
        Assert.NotEmpty(await AuditAsync(AuditActions.SessionEnded));
    }

    [Fact]
    public async Task SignOut_EndsThePortalSession_AndTheProviderSession()
    {
        var portal = await StartPortalAsync();
        var page = await SignInAsync(portal, "lou");
        var endSessionsBefore = idp.EndSessions;

        await page.ClickAsync("[data-testid=current-user]");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();

        await Expect(page.Locator("[data-testid=signed-out]")).ToBeVisibleAsync();
        Assert.True(idp.EndSessions > endSessionsBefore, "the identity provider's end-session endpoint was not called");
        Assert.DoesNotContain(await page.Context.CookiesAsync([portal.ToString()]), c => c.Name == "deployportal.auth");
        // The provider asks who you are again instead of signing you straight back in.
        await page.ClickAsync("[data-testid=signin-oidc]");
        await Expect(page.Locator("[data-testid=idp-lou]")).ToBeVisibleAsync();
    }

    [Theory]
    [InlineData("/history", "/history")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("//evil.example/", "/")]
    public async Task SignIn_WithAReturnUrl_LandsThereOnlyIfItIsOnThePortal(string returnUrl, string expectedPath)
    {
        var portal = await StartPortalAsync();
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = portal.ToString() });
        // Two servers and a back channel on a shared, busy machine: more room than the single-portal tests.
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();

        await page.GotoAsync("/account/login?returnUrl=" + Uri.EscapeDataString(returnUrl));
        await page.ClickAsync("[data-testid=idp-dana]");
        await BrowserFixture.WaitInteractiveAsync(page);

        var landed = new Uri(page.Url);
        Assert.Equal((portal.Authority, expectedPath), (landed.Authority, landed.AbsolutePath));
    }

    [Fact]
    public async Task DevSignIn_WhenOidcIsOn_IsNotOffered()
    {
        await StartPortalAsync();
        using var client = _host!.CreateLoopbackClient();

        var signInPage = await client.GetStringAsync("/signin");

        Assert.Contains("data-testid=\"signin-oidc\"", signInPage);
        Assert.DoesNotContain("data-testid=\"signin-ada\"", signInPage);
        Assert.DoesNotContain("Development sign-in", signInPage);
    }

    [Fact]
    public void Portal_WithBothDevSignInAndOidc_RefusesToStart()
    {
        var settings = idp.PortalSettings("unused");
        settings["Auth:DevSignIn:Enabled"] = "true";
        using var both = new PortalHost(settings: settings);

        var error = Assert.ThrowsAny<Exception>(() => both.Start());

        Assert.Contains("embedded default only", (error as Microsoft.Extensions.Options.OptionsValidationException ?? error.InnerException)?.Message);
    }

    private async Task<Uri> StartPortalAsync(string unmappedUsers = "Viewer")
    {
        var clientId = "portal-" + Guid.NewGuid().ToString("N")[..8];
        _host = new PortalHost(_database, settings: idp.PortalSettings(clientId, unmappedUsers));
        var portal = _host.Start();
        await idp.RegisterClientAsync(clientId, portal);
        return portal;
    }

    private async Task<IPage> SignInAsync(Uri portal, string user, bool expectBoard = true)
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = portal.ToString(), ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        // Two servers and a back channel on a shared, busy machine: more room than the single-portal tests.
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        try
        {
            await page.ClickAsync("[data-testid=signin-oidc]");
            await page.ClickAsync($"[data-testid=idp-{user}]");
        }
        catch (TimeoutException)
        {
            // Say where the browser ended up instead of only "timeout".
            throw new Xunit.Sdk.XunitException($"The identity provider's login page did not appear; at {page.Url}:\n{await page.ContentAsync()}");
        }

        if (expectBoard)
        {
            await BrowserFixture.WaitInteractiveAsync(page);
        }
        else
        {
            await page.WaitForURLAsync(url => url.StartsWith(portal.ToString(), StringComparison.Ordinal));
        }

        return page;
    }

    private async Task<List<AuditEvent>> AuditAsync(string action)
    {
        await using var db = _database.Factory.CreateDbContext();
        return await db.AuditEvents.AsNoTracking().Where(a => a.Action == action).ToListAsync();
    }

    private async Task<AuditEvent> SingleAuditAsync(string action) => Assert.Single(await AuditAsync(action));
}
