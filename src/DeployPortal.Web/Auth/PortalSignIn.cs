using System.Security.Claims;
using System.Text.Json;

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

    public static SignInDecision FromIdentityProvider(ClaimsPrincipal external, OidcSignInOptions options, ILogger? logger = null)
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

        var values = RoleValues(external, options.RoleClaim);
        if (values.Count == 0)
        {
            // The most common sign-in misconfiguration, and invisible from the person's side: say it where operators look.
            logger?.LogWarning("The identity provider sent no '{RoleClaim}' claim for {User} ({Subject}), in the ID token or userinfo. "
                + "Check Auth:Oidc:RoleClaim, that the provider adds it (a scope or mapper), and Auth:Oidc:UserInfo.", options.RoleClaim, name, subject);
        }

        var roles = values.Select(v => MapRole(v, options)).OfType<string>().Distinct().ToList();
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

    /// <summary>
    /// The values of the role claim, in any shape providers use: one claim per value (an array in the token), a
    /// single string, a JSON array, or a path into a JSON object such as Keycloak's <c>realm_access.roles</c>.
    /// </summary>
    public static IReadOnlyList<string> RoleValues(ClaimsPrincipal external, string roleClaim)
    {
        var path = roleClaim.Split('.');
        var claims = external.FindAll(roleClaim).ToList();
        if (claims.Count == 0 && path.Length > 1)
        {
            claims = [.. external.FindAll(path[0])];
        }
        else
        {
            path = [roleClaim];
        }

        var values = new List<string>();
        foreach (var claim in claims)
        {
            var text = claim.Value.Trim();
            if (path.Length == 1 && !text.StartsWith('[') && !text.StartsWith('{'))
            {
                values.Add(text);
                continue;
            }

            try
            {
                using var json = JsonDocument.Parse(text);
                var element = json.RootElement;
                foreach (var segment in path.Skip(1))
                {
                    if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(segment, out element))
                    {
                        element = default;
                        break;
                    }
                }

                values.AddRange(element.ValueKind switch
                {
                    JsonValueKind.Array => element.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!),
                    JsonValueKind.String => [element.GetString()!],
                    _ => [],
                });
            }
            catch (JsonException)
            {
                values.Add(text);
            }
        }

        return values;
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
