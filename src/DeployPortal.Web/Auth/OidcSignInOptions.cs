using System.ComponentModel.DataAnnotations;

namespace DeployPortal.Web.Auth;

/// <summary>What to do with a user whose identity-provider claims map to no portal role.</summary>
public enum UnmappedUsers
{
    /// <summary>Let them in read-only.</summary>
    Viewer,

    /// <summary>Refuse the sign-in.</summary>
    Refuse,
}

/// <summary>Bound from <c>Auth:Oidc</c>. Sign-in with an OpenID Connect provider (Keycloak, Entra ID, Okta…).</summary>
public sealed class OidcSignInOptions
{
    public const string Section = "Auth:Oidc";

    public bool Enabled { get; set; }

    /// <summary>Shown on the sign-in button, e.g. "Keycloak" or "your company account".</summary>
    public string DisplayName { get; set; } = "single sign-on";

    public string? Authority { get; set; }

    /// <summary>
    /// Where the portal itself reads the provider's discovery document, when that differs from what browsers
    /// use: e.g. Keycloak in docker-compose, which browsers reach at <c>http://localhost:8081</c> and the portal
    /// at <c>http://keycloak:8080</c> (with Keycloak's <c>hostname-backchannel-dynamic</c>, the token and key
    /// endpoints it lists then point at the address the portal used). Default: from <see cref="Authority"/>.
    /// </summary>
    public string? MetadataAddress { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>Space-separated, as in the protocol. offline_access asks for the refresh token that keeps the session alive.</summary>
    public string Scopes { get; set; } = "openid profile offline_access";

    /// <summary>Off only for an identity provider on plain-HTTP loopback in development.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>The claim that carries a person's display name.</summary>
    public string NameClaim { get; set; } = "name";

    /// <summary>The claim whose values are mapped to portal roles, e.g. <c>groups</c> (Okta, Keycloak) or <c>roles</c> (Entra ID app roles).</summary>
    public string RoleClaim { get; set; } = "groups";

    /// <summary>
    /// Identity-provider value → portal role, e.g. <c>"qa-team": "QA"</c>. A value naming a portal role
    /// itself (e.g. an Entra app role "Developer") maps to that role without an entry here.
    /// </summary>
    public Dictionary<string, string> RoleMap { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public UnmappedUsers UnmappedUsers { get; set; } = UnmappedUsers.Viewer;

    /// <summary>Refresh the access token this long before it expires (the cookie is checked on every request).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan RefreshBefore { get; set; } = TimeSpan.FromMinutes(5);
}
