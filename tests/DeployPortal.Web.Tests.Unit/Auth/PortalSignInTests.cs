using System.Security.Claims;
using DeployPortal.Web.Auth;
using Microsoft.AspNetCore.Authentication;

namespace DeployPortal.Web.Tests.Auth;

public sealed class PortalSignInTests
{
    private static readonly OidcSignInOptions Options = new()
    {
        RoleClaim = "groups",
        RoleMap = new(StringComparer.OrdinalIgnoreCase) { ["qa-team"] = "QA", ["developers"] = "Developer", ["portal-admins"] = "admin" },
    };

    [Theory]
    [InlineData(new[] { "qa-team" }, new[] { "QA" })]
    [InlineData(new[] { "staff", "developers" }, new[] { "Developer" })]
    [InlineData(new[] { "developers", "qa-team" }, new[] { "Developer", "QA" })]
    [InlineData(new[] { "Portal-Admins" }, new[] { "Admin" })]     // provider spelling differs; the map ignores case
    [InlineData(new[] { "Developer" }, new[] { "Developer" })]     // an Entra app role named like a portal role
    [InlineData(new[] { "developer" }, new[] { "Viewer" })]        // ...but only spelled exactly so
    [InlineData(new string[0], new[] { "Viewer" })]
    public void FromIdentityProvider_MapsRoleClaimValuesToPortalRoles(string[] groups, string[] expected)
    {
        var decision = PortalSignIn.FromIdentityProvider(External("u1", "Uma User", groups), Options);

        Assert.False(decision.Refused);
        Assert.Equal(expected.Order(), decision.Principal!.FindAll(PortalClaims.Role).Select(c => c.Value).Order());
        Assert.Equal(("u1", "Uma User"), (decision.Principal.FindFirst(PortalClaims.Subject)!.Value, decision.Principal.Identity!.Name));
        Assert.True(decision.Principal.IsInRole(expected[0]));
    }

    [Fact]
    public void FromIdentityProvider_NoMappedRole_WhenRefuseIsConfigured_IsRefused()
    {
        var refuse = new OidcSignInOptions { RoleClaim = "groups", RoleMap = Options.RoleMap, UnmappedUsers = UnmappedUsers.Refuse };

        var decision = PortalSignIn.FromIdentityProvider(External("u1", "Uma User", "staff"), refuse);

        Assert.True(decision.Refused);
        Assert.Contains("groups", decision.Refusal);
        Assert.Equal("u1", decision.Subject);
    }

    [Fact]
    public void FromIdentityProvider_OtherClaimTypeConfigured_ReadsThatClaimOnly()
    {
        var roles = new OidcSignInOptions { RoleClaim = "roles", RoleMap = Options.RoleMap };

        var decision = PortalSignIn.FromIdentityProvider(External("u1", "Uma User", "qa-team"), roles);

        Assert.Equal(["Viewer"], decision.Principal!.FindAll(PortalClaims.Role).Select(c => c.Value));
    }

    [Fact]
    public void FromIdentityProvider_WithoutSubject_IsRefused()
    {
        var decision = PortalSignIn.FromIdentityProvider(new ClaimsPrincipal(new ClaimsIdentity([new Claim("name", "Nobody")], "oidc")), Options);

        Assert.True(decision.Refused);
    }

    [Fact]
    public void FromIdentityProvider_WithoutNameClaim_FallsBackToPreferredUsername()
    {
        var identity = new ClaimsIdentity([new Claim("sub", "u2"), new Claim("preferred_username", "uma@example.com")], "oidc");

        var decision = PortalSignIn.FromIdentityProvider(new ClaimsPrincipal(identity), Options);

        Assert.Equal("uma@example.com", decision.Principal!.Identity!.Name);
    }

    [Theory]
    [InlineData("realm_access.roles", "realm_access", "{\"roles\":[\"qa-team\",\"offline_access\"]}", new[] { "QA" })] // Keycloak realm roles
    [InlineData("groups", "groups", "[\"developers\",\"qa-team\"]", new[] { "Developer", "QA" })]                   // an array kept as one JSON claim
    [InlineData("groups", "groups", "developers", new[] { "Developer" })]                                                  // a single string
    [InlineData("realm_access.roles", "realm_access", "{\"other\":[\"qa-team\"]}", new[] { "Viewer" })]                // the path leads nowhere
    [InlineData("roles", "roles", "Admin", new[] { "Admin" })]                                                              // Entra app roles
    public void FromIdentityProvider_ReadsRolesFromEveryShapeProvidersUse(string roleClaim, string claimType, string value, string[] expected)
    {
        var options = new OidcSignInOptions { RoleClaim = roleClaim, RoleMap = Options.RoleMap };
        var external = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "u3"), new Claim(claimType, value)], "oidc"));

        var decision = PortalSignIn.FromIdentityProvider(external, options);

        Assert.Equal(expected.Order(), decision.Principal!.FindAll(PortalClaims.Role).Select(c => c.Value).Order());
    }

    [Theory]
    [InlineData("Admin", "Developer", "Developer")] // demoted at the provider: the token follows
    [InlineData("Developer", "Admin", "Developer")] // promoted later: the token keeps what it was made with
    [InlineData("QA", null, "QA")]                  // no session known for the owner
    [InlineData("Admin", "", "Viewer")]             // no portal role left
    public void AccessToken_ActsWithTheLowerOfItsRoleAndTheOwnersRoleNow(string atCreation, string? now, string expected) =>
        Assert.Equal(expected, AccessTokenService.EffectiveRoles(atCreation, now));

    [Theory]
    [InlineData("offline_access openid", null, "consent")]
    [InlineData("openid profile", null, null)]
    [InlineData("openid offline_access", "", "")]
    [InlineData("openid", "login", "login")]
    public void Prompt_IsConsent_WhenOfflineAccessIsAskedFor_UnlessSet(string scopes, string? configured, string? expected) =>
        Assert.Equal(expected, new OidcSignInOptions { Scopes = scopes, Prompt = configured }.EffectivePrompt);

    [Theory]
    [InlineData(120, 60)]    // 2-minute tokens: half-way
    [InlineData(3600, 3300)] // an hour: RefreshBefore (5 min) ahead of the end
    public void Refresh_IsDueHalfWayThroughTheLifetime_OrRefreshBeforeAheadOfTheEnd(int lifetimeSeconds, int dueAfterSeconds)
    {
        var now = new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
        var properties = new AuthenticationProperties();
        properties.StoreTokens([new() { Name = "refresh_token", Value = "r" }]);

        OidcTokens.Stamp(properties, now, TimeSpan.FromSeconds(lifetimeSeconds), TimeSpan.FromMinutes(5));

        Assert.Equal(now.AddSeconds(dueAfterSeconds), OidcTokens.RefreshAt(properties));
        Assert.Equal(now.AddSeconds(lifetimeSeconds), OidcTokens.ExpiresAt(properties));
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("app.localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.1", true)]
    [InlineData("[::1]", true)]
    [InlineData("portal.example.com", false)]
    [InlineData("localhost.example.com", false)]
    [InlineData("10.0.0.1", false)]
    public void PlainHttp_CountsOnlyThisMachinesNamesAsLoopback(string host, bool loopback) =>
        Assert.Equal(loopback, PlainHttpGuard.IsLoopback(host));

    private static ClaimsPrincipal External(string sub, string name, params string[] groups) => new(new ClaimsIdentity(
        [new Claim("sub", sub), new Claim("name", name), .. groups.Select(g => new Claim("groups", g))], "oidc"));
}
