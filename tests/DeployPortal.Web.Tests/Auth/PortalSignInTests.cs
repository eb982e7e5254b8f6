using System.Security.Claims;
using DeployPortal.Web.Auth;

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

    private static ClaimsPrincipal External(string sub, string name, params string[] groups) => new(new ClaimsIdentity(
        [new Claim("sub", sub), new Claim("name", name), .. groups.Select(g => new Claim("groups", g))], "oidc"));
}
