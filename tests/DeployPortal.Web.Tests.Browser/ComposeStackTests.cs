using DeployPortal.Web.Data;
using DeployPortal.Web.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeployPortal.Web.Tests.Browser;

/// <summary>
/// The docker-compose stack's portal as the README documents it — Production, plain HTTP at http://localhost,
/// PostgreSQL, OpenID Connect — run outside Docker (there is no engine here): its environment is read from
/// docker-compose.yml and only the addresses of its neighbours are replaced, with the real PostgreSQL the test command
/// starts and a certified identity provider standing where Keycloak stands, at http://localhost like Keycloak there
/// (plain HTTP has no SameSite=None cookies, so the provider must be on the portal's site). A person then signs in
/// with Chromium.
/// </summary>
[Collection(OidcCollection.Name)]
public sealed class ComposeStackTests(BrowserFixture browser) : IAsyncLifetime
{
    private readonly CertifiedIdp _idp = new(claimsInIdToken: true, host: "localhost");
    private TestDatabase _database = default!;
    private PortalHost? _host;

    public async Task InitializeAsync()
    {
        await _idp.InitializeAsync();
        _database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres);
    }

    public async Task DisposeAsync()
    {
        await browser.CloseContextsAsync();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        await _database.DisposeAsync();
        await _idp.DisposeAsync();
    }

    [Fact]
    public async Task ComposePortal_InProductionOverPlainHttpAtLocalhost_SignsInAndShowsTheBoard()
    {
        var compose = Yaml.Load(ShippingFiles.Read("docker-compose.yml")).Map("services").Map("portal-emulator").Environment();
        Assert.Equal("Production", compose["ASPNETCORE_ENVIRONMENT"]);
        var port = PortalHost.FreePort();
        // Browsers reach the compose portal at http://localhost:<port>, as the README says.
        var portal = new Uri($"http://localhost:{port}/");
        var (clientId, secret) = await _idp.RegisterClientAsync(portal);
        var settings = compose.ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value);
        settings.Remove("ASPNETCORE_ENVIRONMENT");
        settings.Remove("Auth:Oidc:MetadataAddress"); // Keycloak's in-network address
        settings.Remove("Auth:Oidc:Prompt"); // Keycloak's; the certified provider wants consent for offline_access
        settings["Auth:DevSignIn:Enabled"] = "false";
        settings["Auth:Oidc:Authority"] = _idp.Authority.ToString();
        settings["Auth:Oidc:ClientId"] = clientId;
        settings["Auth:Oidc:ClientSecret"] = secret;
        // Keycloak's realm puts groups in every token and names them like the roles; this provider gives them for a scope.
        settings["Auth:Oidc:Scopes"] = "openid profile offline_access groups";
        settings["Auth:Oidc:RoleMap:developers"] = "Developer";
        settings.Remove("Database:ConnectionString"); // PortalHost points it at the test's database
        _host = new PortalHost(_database, "Production", settings, port);
        _host.Start();

        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = portal.ToString() });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        await page.ClickAsync("[data-testid=signin-oidc]");
        await page.FillAsync("input[name=login]", "dana");
        await page.FillAsync("input[name=password]", "any");
        await page.ClickAsync("button[type=submit]");
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await BrowserFixture.WaitInteractiveAsync(page);

        await Expect(page.Locator("[data-testid=current-user]")).ToContainTextAsync("Dana Developer · Developer");
        await Expect(page.Locator("[data-testid=slot-qa-1]")).ToBeVisibleAsync();
        var cookie = Assert.Single(await context.CookiesAsync([portal.ToString()]), c => c.Name == "deployportal.auth");
        Assert.True(cookie.HttpOnly);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "compose-production-plain-http.png") });
    }
}
