using System.Security.Claims;

namespace DeployPortal.Web.Auth;

/// <summary>The outcome of turning an identity provider's claims into a portal user.</summary>
internal sealed record SignInDecision(ClaimsPrincipal? Principal, string Subject, string Name, string? Refusal)
{
    public bool Refused => Principal is null;
}

/// <summary>
/// Maps an identity provider's principal onto the portal's own claims (<see cref="PortalClaims"/>), so
/// that nothing downstream depends on which provider signed the user in or how it names its claims.
/// Used at sign-in and again on every token refresh, so a role removed at the provider is lost here too.
/// </summary>
internal static class PortalSignIn
{
    public const string AuthenticationType = "OpenIdConnect";

    public static SignInDecision FromIdentityProvider(ClaimsPrincipal external, OidcSignInOptions options)
    {
        var subject = external.FindFirst("sub")?.Value ?? "";
        var name = external.FindFirst(options.NameClaim)?.Value
            ?? external.FindFirst("preferred_username")?.Value
            ?? external.FindFirst("email")?.Value
            ?? subject;
        if (subject.Length == 0)
        {
            return new SignInDecision(null, "unknown", name, "The identity provider sent no subject (sub) claim.");
        }

        var roles = external.FindAll(options.RoleClaim)
            .Select(c => MapRole(c.Value, options))
            .OfType<string>()
            .Distinct()
            .ToList();
        if (roles.Count == 0)
        {
            if (options.UnmappedUsers == UnmappedUsers.Refuse)
            {
                return new SignInDecision(null, subject, name,
                    $"None of the values of the '{options.RoleClaim}' claim map to a portal role, and unmapped users are refused.");
            }

            roles.Add(PortalRoles.Viewer);
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(PortalClaims.Subject, subject),
                new Claim(PortalClaims.Name, name),
                .. roles.Select(r => new Claim(PortalClaims.Role, r)),
            ],
            AuthenticationType, PortalClaims.Name, PortalClaims.Role);
        return new SignInDecision(new ClaimsPrincipal(identity), subject, name, null);
    }

    private static string? MapRole(string value, OidcSignInOptions options)
    {
        if (options.RoleMap.TryGetValue(value, out var mapped))
        {
            return PortalRoles.All.FirstOrDefault(r => string.Equals(r, mapped, StringComparison.OrdinalIgnoreCase));
        }

        return PortalRoles.All.FirstOrDefault(r => string.Equals(r, value, StringComparison.Ordinal));
    }
}
