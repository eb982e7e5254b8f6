using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace DeployPortal.Web.Tests.Infrastructure;

/// <summary>A person known to the test identity provider. Groups and Disabled may change during a test.</summary>
public sealed class IdpUser(string id, string name, params string[] groups)
{
    public string Id { get; } = id;
    public string Name { get; } = name;
    public string[] Groups { get; set; } = groups;
    public bool Disabled { get; set; }
}

/// <summary>
/// A real OpenID Connect provider (OpenIddict 7) on loopback HTTP, in the test process: authorization
/// code flow with PKCE, refresh tokens, RP-initiated logout, a login page with one button per user, and
/// "groups" claims in the tokens. Short access tokens make the portal refresh on its next request.
/// </summary>
public sealed class OidcServer : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("deployportal-idp-").FullName;
    private WebApplication _app = default!;
    private int _refreshGrants;
    private int _endSessions;

    public ConcurrentDictionary<string, IdpUser> Users { get; } = new(new[]
    {
        new IdpUser("val", "Val Viewer", "staff"),
        new IdpUser("dana", "Dana Developer", "staff", "developers"),
        new IdpUser("quinn", "Quinn QA", "staff", "qa-team"),
        new IdpUser("ada", "Ada Admin", "staff", "portal-admins"),
        // Changed by the refresh tests only, so that other tests never see the changes.
        new IdpUser("riley", "Riley Refresh", "staff", "qa-team"),
        new IdpUser("lou", "Lou Logout", "staff", "developers"),
    }.ToDictionary(u => u.Id));

    public Uri Authority { get; private set; } = default!;
    public int RefreshGrants => Volatile.Read(ref _refreshGrants);
    public int EndSessions => Volatile.Read(ref _endSessions);
    public TimeSpan AccessTokenLifetime { get; } = TimeSpan.FromMinutes(2);

    /// <summary>Portal settings for signing in through this provider as a client registered with <see cref="RegisterClientAsync"/>.</summary>
    public Dictionary<string, string?> PortalSettings(string clientId, string unmappedUsers = "Viewer") => new()
    {
        ["Auth:DevSignIn:Enabled"] = "false",
        ["Auth:Oidc:Enabled"] = "true",
        ["Auth:Oidc:DisplayName"] = "Test IdP",
        ["Auth:Oidc:Authority"] = Authority.ToString(),
        ["Auth:Oidc:ClientId"] = clientId,
        ["Auth:Oidc:ClientSecret"] = clientId + "-secret",
        ["Auth:Oidc:RequireHttpsMetadata"] = "false",
        ["Auth:Oidc:Scopes"] = "openid profile offline_access groups",
        ["Auth:Oidc:RoleClaim"] = "groups",
        ["Auth:Oidc:RoleMap:developers"] = "Developer",
        ["Auth:Oidc:RoleMap:qa-team"] = "QA",
        ["Auth:Oidc:RoleMap:portal-admins"] = "Admin",
        ["Auth:Oidc:UnmappedUsers"] = unmappedUsers,
    };

    /// <summary>Registers the portal at <paramref name="portal"/> as a confidential client that must use PKCE.</summary>
    public async Task RegisterClientAsync(string clientId, Uri portal)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        await manager.CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = clientId + "-secret",
            ClientType = ClientTypes.Confidential,
            ConsentType = ConsentTypes.Implicit,
            DisplayName = "DeployPortal under test",
            RedirectUris = { new Uri(portal, "/signin-oidc") },
            PostLogoutRedirectUris = { new Uri(portal, "/signout-callback-oidc") },
            Permissions =
            {
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.Token,
                Permissions.Endpoints.EndSession,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.GrantTypes.RefreshToken,
                Permissions.ResponseTypes.Code,
                Permissions.Scopes.Profile,
                Permissions.Prefixes.Scope + "groups",
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        });
    }

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("OpenIddict", LogLevel.Warning);
        builder.Services.AddDbContext<IdpDb>(o => o.UseSqlite($"Data Source={Path.Combine(_folder, "idp.db")}").UseOpenIddict());
        builder.Services.AddAuthentication(IdpCookie).AddCookie(IdpCookie, o => o.Cookie.Name = "testidp.session");
        builder.Services.AddAuthorization();
        builder.Services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<IdpDb>())
            .AddServer(o =>
            {
                o.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetEndSessionEndpointUris("connect/endsession");
                o.AllowAuthorizationCodeFlow().AllowRefreshTokenFlow();
                o.RequireProofKeyForCodeExchange();
                o.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.OfflineAccess, "groups");
                o.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
                o.DisableAccessTokenEncryption();
                o.SetAccessTokenLifetime(AccessTokenLifetime);
                o.SetIdentityTokenLifetime(AccessTokenLifetime);
                o.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .DisableTransportSecurityRequirement(); // plain HTTP on loopback, tests only
            });

        _app = builder.Build();
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IdpDb>().Database.EnsureCreatedAsync();
        }

        _app.UseAuthentication();
        _app.UseAuthorization();
        _app.MapMethods("/connect/authorize", ["GET", "POST"], (Func<HttpContext, Task<IResult>>)AuthorizeAsync);
        _app.MapPost("/login", (Func<HttpContext, Task<IResult>>)LoginAsync);
        _app.MapPost("/connect/token", (Func<HttpContext, Task<IResult>>)TokenAsync);
        _app.MapMethods("/connect/endsession", ["GET", "POST"], (Func<HttpContext, Task<IResult>>)EndSessionAsync);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Authority = new Uri(address.TrimEnd('/') + "/");

        // Pay the cold start (OpenIddict's pipeline, EF's model, SQLite) here rather than inside the first
        // test's browser timeout: a busy machine took more than 30 s for the first sign-in otherwise.
        using var warmUp = new HttpClient { BaseAddress = Authority };
        (await warmUp.GetAsync(".well-known/openid-configuration")).EnsureSuccessStatusCode();
        (await warmUp.GetAsync(".well-known/jwks")).EnsureSuccessStatusCode();
        await RegisterClientAsync("warm-up", new Uri("http://127.0.0.1:1/"));
        (await warmUp.GetAsync("connect/authorize?client_id=warm-up&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fsignin-oidc"
            + "&code_challenge=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU&code_challenge_method=S256&state=x&nonce=y")).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private const string IdpCookie = "testidp";

    private async Task<IResult> AuthorizeAsync(HttpContext http)
    {
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        var session = await http.AuthenticateAsync(IdpCookie);
        var userId = session.Principal?.FindFirst(Claims.Subject)?.Value;
        if (userId is null || !Users.TryGetValue(userId, out var user))
        {
            return Results.Content(LoginPage(http.Request.Path + http.Request.QueryString), "text/html; charset=utf-8");
        }

        var identity = Identity(user);
        identity.SetScopes(request.GetScopes());
        identity.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private async Task<IResult> LoginAsync(HttpContext http)
    {
        var form = await http.Request.ReadFormAsync();
        var user = form["user"].ToString();
        var returnUrl = form["returnUrl"].ToString();
        if (!Users.ContainsKey(user) || !returnUrl.StartsWith("/connect/authorize", StringComparison.Ordinal))
        {
            return Results.BadRequest();
        }

        await http.SignInAsync(IdpCookie, new ClaimsPrincipal(new ClaimsIdentity([new Claim(Claims.Subject, user)], IdpCookie)));
        return Results.Redirect(returnUrl);
    }

    private async Task<IResult> TokenAsync(HttpContext http)
    {
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        if (!request.IsAuthorizationCodeGrantType() && !request.IsRefreshTokenGrantType())
        {
            return Results.BadRequest();
        }

        var granted = (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal!;
        if (request.IsRefreshTokenGrantType())
        {
            Interlocked.Increment(ref _refreshGrants);
        }

        var userId = granted.GetClaim(Claims.Subject)!;
        if (!Users.TryGetValue(userId, out var user) || user.Disabled)
        {
            return Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.InvalidGrant,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The account is disabled.",
            }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        // Fresh claims on every refresh, as a real provider does: group changes reach the portal.
        var identity = Identity(user);
        identity.SetScopes(granted.GetScopes());
        identity.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private async Task<IResult> EndSessionAsync(HttpContext http)
    {
        Interlocked.Increment(ref _endSessions);
        await http.SignOutAsync(IdpCookie);
        // OpenIddict redirects to the client's registered post_logout_redirect_uri.
        return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    private static ClaimsIdentity Identity(IdpUser user)
    {
        var identity = new ClaimsIdentity("testidp", Claims.Name, Claims.Role);
        identity.AddClaim(new Claim(Claims.Subject, user.Id));
        identity.AddClaim(new Claim(Claims.Name, user.Name));
        identity.AddClaim(new Claim(Claims.PreferredUsername, user.Id));
        foreach (var group in user.Groups)
        {
            identity.AddClaim(new Claim("groups", group));
        }

        return identity;
    }

    private string LoginPage(string returnUrl)
    {
        var html = new StringBuilder("<!DOCTYPE html><html><head><title>Test IdP</title></head><body><h1>Test IdP sign-in</h1>");
        foreach (var user in Users.Values.OrderBy(u => u.Id))
        {
            html.Append("<form method=\"post\" action=\"/login\">")
                .Append("<input type=\"hidden\" name=\"returnUrl\" value=\"").Append(WebUtility.HtmlEncode(returnUrl)).Append("\" />")
                .Append("<button type=\"submit\" name=\"user\" value=\"").Append(user.Id).Append("\" data-testid=\"idp-").Append(user.Id).Append("\">")
                .Append(WebUtility.HtmlEncode(user.Name)).Append("</button></form>");
        }

        return html.Append("</body></html>").ToString();
    }
}

/// <summary>OpenIddict's applications, authorizations and tokens for the test provider.</summary>
internal sealed class IdpDb(DbContextOptions<IdpDb> options) : DbContext(options);
