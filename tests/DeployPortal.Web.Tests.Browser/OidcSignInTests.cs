using DeployPortal.Web.Audit;
using DeployPortal.Web.Auth;
using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

[CollectionDefinition(Name)]
public sealed class OidcCollection : ICollectionFixture<BrowserFixture>, ICollectionFixture<CertifiedIdp>, ICollectionFixture<UserInfoOnlyIdp>
{
    public const string Name = "oidc";
}

/// <summary>
/// Signing in through a certified OpenID Connect provider (oidc-provider, run by node), configured strictly, in a real
/// browser: refresh tokens only with consent, 2-minute tokens, rotation with reuse detection. The portal's clock is a
/// fake one that tests move, so "a minute later" takes no minute; the provider keeps real time.
/// </summary>
[Collection(OidcCollection.Name)]
public sealed class OidcSignInTests(BrowserFixture browser, CertifiedIdp idp, UserInfoOnlyIdp userInfoOnly) : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
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
    public async Task SignIn_ThroughACertifiedProvider_MapsGroupsToThePortalRole_AndStaysSignedIn(string user, string expectedChip)
    {
        var page = await SignInAsync(await StartPortalAsync(), user);

        await Expect(page.Locator("[data-testid=current-user]")).ToContainTextAsync(expectedChip);
        Assert.DoesNotContain("Development sign-in", await page.ContentAsync());
        // The defect this guards: with 2-minute tokens every request after the callback ended the session.
        await page.ReloadAsync();
        await BrowserFixture.WaitInteractiveAsync(page);
        await page.GotoAsync("/history");
        await BrowserFixture.WaitInteractiveAsync(page);
        Assert.Equal("/history", new Uri(page.Url).AbsolutePath);
        Assert.Empty(await AuditAsync(AuditActions.SessionEnded));
        var signIn = await SingleAuditAsync(AuditActions.SignIn);
        Assert.Equal(user, signIn.ActorId);
        var session = Assert.Single(await SessionsAsync());
        Assert.NotNull(session.RefreshDueAt); // prompt=consent got the offline_access grant, so a refresh token
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"oidc-signed-in-{user}.png") });
    }

    [Fact]
    public async Task Session_RefreshesOncePerHalfTokenLifetime_EvenUnderConcurrentRequests_AndNeverReusesARefreshToken()
    {
        var page = await SignInAsync(await StartPortalAsync(), "dana");
        var before = await idp.CountersAsync();

        // Not yet due: loads and parallel requests refresh nothing.
        await LoadManyAsync(page, 6);
        Assert.Equal(before.RefreshGrants, (await idp.CountersAsync()).RefreshGrants);

        // Past half the 2-minute lifetime: twelve requests at once, one refresh.
        _clock.Advance(idp.TokenLifetime / 2 + TimeSpan.FromSeconds(1));
        await LoadManyAsync(page, 12);
        var afterFirst = await idp.CountersAsync();
        Assert.Equal(before.RefreshGrants + 1, afterFirst.RefreshGrants);

        // The next half lifetime: one more, with the rotated token (a reused one would revoke the grant).
        await LoadManyAsync(page, 6);
        _clock.Advance(idp.TokenLifetime / 2 + TimeSpan.FromSeconds(1));
        await LoadManyAsync(page, 12);
        var afterSecond = await idp.CountersAsync();
        Assert.Equal(before.RefreshGrants + 2, afterSecond.RefreshGrants);
        Assert.Equal(before.RefreshErrors, afterSecond.RefreshErrors);
        Assert.Equal(before.RevokedGrants, afterSecond.RevokedGrants);
        await page.ReloadAsync();
        await Expect(page.Locator("[data-testid=current-user]")).ToContainTextAsync("Dana Developer · Developer");
    }

    [Fact]
    public async Task SignIn_WhenTheProviderIssuesNoRefreshToken_LastsUntilTheTokensExpire_ThenEnds()
    {
        // Without prompt=consent the strict provider drops offline_access, so there is no refresh token.
        var page = await SignInAsync(await StartPortalAsync(more: new() { ["Auth:Oidc:Prompt"] = "" }), "dana");
        Assert.Null(Assert.Single(await SessionsAsync()).RefreshDueAt);

        _clock.Advance(idp.TokenLifetime - TimeSpan.FromSeconds(5));
        await LoadManyAsync(page, 4);
        Assert.Empty(await AuditAsync(AuditActions.SessionEnded));

        _clock.Advance(TimeSpan.FromSeconds(10));
        await page.ReloadAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/signin");
        Assert.Contains("issued no refresh token", (await SingleAuditAsync(AuditActions.SessionEnded)).Details);
    }

    [Fact]
    public async Task GroupChangeAtTheProvider_ReachesAnOpenPage_WithoutAReload_AndItsActionsAreRefusedUntilReloaded()
    {
        var page = await SignInAsync(await StartPortalAsync(), "rory");
        await Expect(page.Locator("[data-testid=current-user]")).ToContainTextAsync("Rory Role · Admin");
        await Expect(page.Locator("[data-testid=nav-jobs]")).ToBeVisibleAsync();

        await idp.SetUserAsync("rory", groups: ["staff", "developers"]);
        _clock.Advance(idp.TokenLifetime / 2 + TimeSpan.FromSeconds(1));
        await _host!.Services.GetRequiredService<SessionMonitor>().CheckAllAsync(CancellationToken.None);

        await Expect(page.Locator("[data-testid=role-changed]")).ToContainTextAsync("Your role is now Developer");
        await Expect(page.Locator("[data-testid=current-user]")).ToContainTextAsync("Rory Role · Developer");
        await Expect(page.Locator("[data-testid=nav-jobs]")).ToHaveCountAsync(0);
        var audit = await AuditAsync(AuditActions.SignIn);
        Assert.Contains(audit, a => a.Details.Contains("Admin → Developer"));
    }

    [Fact]
    public async Task SignOutInOneTab_EndsTheOtherTab_AtOnce_AndItsClaimIsRefused_KeepingWhatWasTyped()
    {
        var portal = await StartPortalAsync();
        var first = await SignInAsync(portal, "tess");
        var second = await first.Context.NewPageAsync();
        await second.GotoAsync("/");
        await BrowserFixture.WaitInteractiveAsync(second);
        // Half-way through a claim in the second tab.
        await second.Locator("[data-testid=slot-qa-3] [data-testid=claim]").ClickAsync();
        await second.Locator("[data-testid=claim-purpose]").FillAsync("checkout test");

        await first.BringToFrontAsync();
        await first.ClickAsync("[data-testid=current-user]");
        await first.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await first.GetByRole(AriaRole.Button, new() { Name = "Yes, sign me out" }).ClickAsync();
        await Expect(first.Locator("[data-testid=signed-out]")).ToBeVisibleAsync();

        await Expect(second.Locator("[data-testid=session-ended]")).ToContainTextAsync("Your session ended — sign in again");
        Assert.Equal("checkout test", await second.Locator("[data-testid=claim-purpose]").InputValueAsync());
        await second.Locator("[data-testid=claim-submit]").ClickAsync();
        await Expect(second.GetByText(SessionCheck.SessionEndedMessage).First).ToBeVisibleAsync();
        await second.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "oidc-other-tab-after-sign-out.png") });
        await using var db = _database.Factory.CreateDbContext();
        Assert.False(await db.Holds.AnyAsync(h => h.HolderId == "tess"));
        Assert.Equal("signed out", (await SessionsAsync()).Single().EndReason);
    }

    [Fact]
    public async Task ProviderRefusingTheRefresh_EndsTheSession_TheOpenPageSaysSo_AndTheNextRequestSignsIn()
    {
        var page = await SignInAsync(await StartPortalAsync(), "riley");
        await idp.SetUserAsync("riley", disabled: true);
        _clock.Advance(idp.TokenLifetime / 2 + TimeSpan.FromSeconds(1));

        // The open page's check refreshes its tokens when due (the monitor's own timer may be doing it right now).
        await _host!.Services.GetRequiredService<SessionMonitor>().CheckAllAsync(CancellationToken.None);

        await Expect(page.Locator("[data-testid=session-ended]")).ToBeVisibleAsync();
        await page.GotoAsync("/history");
        Assert.Equal("/signin", new Uri(page.Url).AbsolutePath);
        var ended = await SingleAuditAsync(AuditActions.SessionEnded);
        Assert.Contains("refused to refresh", ended.Details);
        await idp.SetUserAsync("riley", disabled: false);
    }

    [Fact]
    public async Task SignIn_WithAProviderThatKeepsClaimsInUserInfo_ReadsNameAndGroupsFromThere()
    {
        var page = await SignInAsync(await StartPortalAsync(userInfoOnly.Idp), "ada", idpUnderTest: userInfoOnly.Idp);

        await Expect(page.Locator("[data-testid=current-user]")).ToContainTextAsync("Ada Admin · Admin");
        Assert.True((await userInfoOnly.Idp.CountersAsync()).Userinfo >= 1);
    }

    [Fact]
    public async Task SignOut_EndsThePortalSession_AndTheProviderSession()
    {
        var portal = await StartPortalAsync();
        var page = await SignInAsync(portal, "lou");
        var endSessionsBefore = (await idp.CountersAsync()).EndSessions;

        await page.ClickAsync("[data-testid=current-user]");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, sign me out" }).ClickAsync();

        await Expect(page.Locator("[data-testid=signed-out]")).ToBeVisibleAsync();
        Assert.True((await idp.CountersAsync()).EndSessions > endSessionsBefore, "the identity provider's end-session endpoint was not called");
        Assert.DoesNotContain(await page.Context.CookiesAsync([portal.ToString()]), c => c.Name == "deployportal.auth");
        // The provider asks who you are again instead of signing you straight back in.
        await page.ClickAsync("[data-testid=signin-oidc]");
        await Expect(page.Locator("input[name=login]")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task SignIn_UserWithNoMappedGroup_WhenUnmappedUsersAreRefused_IsDeniedAndAudited()
    {
        var portal = await StartPortalAsync(unmappedUsers: "Refuse");

        var page = await SignInAsync(portal, "val", expectBoard: false);

        await Expect(page.Locator("[data-testid=signin-denied]")).ToBeVisibleAsync();
        Assert.StartsWith("/signin", new Uri(page.Url).AbsolutePath);
        Assert.DoesNotContain(await page.Context.CookiesAsync([portal.ToString()]), c => c.Name == "deployportal.auth");
        var refused = await SingleAuditAsync(AuditActions.SignInRefused);
        Assert.Equal(("val", "Val Viewer"), (refused.ActorId, refused.ActorName));
        Assert.Empty(await AuditAsync(AuditActions.SignIn));
        await page.GotoAsync("/");
        Assert.StartsWith("/signin", new Uri(page.Url).AbsolutePath);
    }

    [Fact]
    public async Task Viewer_OpeningTheJobsDashboard_IsToldWhoTheyAre_NotSentToSignIn()
    {
        var page = await SignInAsync(await StartPortalAsync(), "val");
        await Expect(page.Locator("[data-testid=nav-deploy]")).ToHaveCountAsync(0);

        await page.GotoAsync("/jobs");

        Assert.Equal("/access-denied", new Uri(page.Url).AbsolutePath);
        await Expect(page.Locator("[data-testid=access-denied]")).ToContainTextAsync("You are Val Viewer (Viewer); the background-jobs dashboard is for admins");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "access-denied-viewer.png") });
    }

    [Theory]
    [InlineData("/history", "/history")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("//evil.example/", "/")]
    public async Task SignIn_WithAReturnUrl_LandsThereOnlyIfItIsOnThePortal(string returnUrl, string expectedPath)
    {
        var portal = await StartPortalAsync();
        var page = await NewPageAsync(portal);

        await page.GotoAsync("/account/login?returnUrl=" + Uri.EscapeDataString(returnUrl));
        await LogInAtProviderAsync(page, "dana");
        await BrowserFixture.WaitInteractiveAsync(page);

        var landed = new Uri(page.Url);
        Assert.Equal((portal.Authority, expectedPath), (landed.Authority, landed.AbsolutePath));
    }

    [Fact]
    public async Task Production_OverPlainHttpOnLoopback_WhenAllowed_SignsIn_AndRefusesOtherHosts()
    {
        var portal = await StartPortalAsync(environment: "Production", more: new() { ["Auth:PlainHttp:AllowOnLoopback"] = "true" });

        var page = await SignInAsync(portal, "quinn");

        await Expect(page.Locator("[data-testid=current-user]")).ToContainTextAsync("Quinn QA · QA");
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(portal, "/signin"));
        request.Headers.Host = "portal.example.com";
        using var response = await client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.MisdirectedRequest, response.StatusCode);
        Assert.Contains("plain HTTP only at localhost", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Production_OverPlainHttp_WhenNotAllowed_SaysSo_InsteadOfAnError()
    {
        var portal = await StartPortalAsync(environment: "Production");
        using var client = new HttpClient();

        using var response = await client.GetAsync(new Uri(portal, "/signin"));

        Assert.Equal(System.Net.HttpStatusCode.MisdirectedRequest, response.StatusCode);
        Assert.Contains("Auth:PlainHttp:AllowOnLoopback", await response.Content.ReadAsStringAsync());
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync(new Uri(portal, "/healthz"))).StatusCode);
    }

    [Fact]
    public async Task SignIn_WithAWrongClientSecret_ShowsThePortalsOwnPage_WithARequestId()
    {
        var portal = await StartPortalAsync(more: new() { ["Auth:Oidc:ClientSecret"] = "not-the-secret" });
        var page = await NewPageAsync(portal);
        await page.GotoAsync("/");

        // The provider offers pushed authorization requests, so it refuses the client before showing any page.
        await page.ClickAsync("[data-testid=signin-oidc]");

        await Expect(page.Locator("[data-testid=signin-failed]")).ToContainTextAsync("did not complete");
        var requestId = new Uri(page.Url).Query.Split('&').Single(p => p.StartsWith("request=", StringComparison.Ordinal))["request=".Length..];
        await Expect(page.Locator("[data-testid=signin-failed] code")).ToHaveTextAsync(Uri.UnescapeDataString(requestId));
        Assert.Empty(await SessionsAsync());
    }

    [Fact]
    public async Task DevSignInPost_InProductionOverPlainHttp_IsNotFound_NotAnError()
    {
        var portal = await StartPortalAsync(environment: "Production", more: new() { ["Auth:PlainHttp:AllowOnLoopback"] = "true" });
        using var client = new HttpClient();

        using var response = await client.PostAsync(new Uri(portal, "/account/dev-signin"), new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = "ada" }));

        Assert.True(response.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.BadRequest, $"answered {(int)response.StatusCode}");
        Assert.Empty(await SessionsAsync());
    }

    private async Task LoadManyAsync(IPage page, int requests)
    {
        // The browser's own cookie on every request, as a page's assets and a second tab would send it.
        await Task.WhenAll(Enumerable.Range(0, requests).Select(async _ =>
        {
            var response = await page.Context.APIRequest.GetAsync("/history", new() { MaxRedirects = 0 });
            Assert.Equal(200, response.Status);
        }));
    }

    private async Task<Uri> StartPortalAsync(CertifiedIdp? provider = null, string unmappedUsers = "Viewer", string environment = "Development",
        Dictionary<string, string?>? more = null)
    {
        provider ??= idp;
        var port = PortalHost.FreePort();
        var address = new Uri($"http://127.0.0.1:{port}/");
        var (clientId, secret) = await provider.RegisterClientAsync(address);
        var settings = provider.PortalSettings(unmappedUsers);
        settings["Auth:Oidc:ClientId"] = clientId;
        settings["Auth:Oidc:ClientSecret"] = secret;
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        _host = new PortalHost(_database, environment, settings, port, services => services.AddSingleton<TimeProvider>(_clock));
        return _host.Start();
    }

    private async Task<IPage> NewPageAsync(Uri portal)
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = portal.ToString(), ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        // Two servers and a back channel on a shared, busy machine: more room than the single-portal tests.
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    private async Task<IPage> SignInAsync(Uri portal, string user, bool expectBoard = true, CertifiedIdp? idpUnderTest = null)
    {
        var page = await NewPageAsync(portal);
        await page.GotoAsync("/");
        await page.ClickAsync("[data-testid=signin-oidc]");
        await LogInAtProviderAsync(page, user);
        if (expectBoard)
        {
            await BrowserFixture.WaitInteractiveAsync(page);
        }
        else
        {
            // Polled rather than WaitForURLAsync, which checks the address and then waits for a navigation: the
            // provider's redirect back could land between the two (a clean-clone run timed out so).
            await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(portal.ToString())),
                new() { Timeout = 30_000 });
        }

        return page;
    }

    /// <summary>The provider's own login page (any password) and its consent page (offline_access asks for consent).</summary>
    private static async Task LogInAtProviderAsync(IPage page, string user)
    {
        try
        {
            await page.FillAsync("input[name=login]", user);
            await page.FillAsync("input[name=password]", "any");
            await page.ClickAsync("button[type=submit]");
            await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        }
        catch (TimeoutException)
        {
            // Say where the browser ended up instead of only "timeout".
            throw new Xunit.Sdk.XunitException($"The identity provider's pages did not go as expected; at {page.Url}:\n{await page.ContentAsync()}");
        }
    }

    private async Task<List<AuditEvent>> AuditAsync(string action)
    {
        await using var db = _database.Factory.CreateDbContext();
        return await db.AuditEvents.AsNoTracking().Where(a => a.Action == action).ToListAsync();
    }

    private async Task<List<PortalSession>> SessionsAsync()
    {
        await using var db = _database.Factory.CreateDbContext();
        return await db.Sessions.AsNoTracking().ToListAsync();
    }

    private async Task<AuditEvent> SingleAuditAsync(string action) => Assert.Single(await AuditAsync(action));
}
