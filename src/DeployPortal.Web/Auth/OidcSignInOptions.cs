namespace DeployPortal.Web.Auth;

/// <summary>What to do with a user whose identity-provider claims map to no portal role.</summary>
public enum UnmappedUsers
{
    /// <summary>Let them in read-only.</summary>
    Viewer,

    /// <summary>Refuse the sign-in.</summary>
    Refuse,
}

/// <summary>Where the portal reads name and role claims from.</summary>
public enum UserInfoClaims
{
    /// <summary>From userinfo when the ID token lacks the role claim (providers that keep scope claims out of it).</summary>
    Auto,

    /// <summary>Always merge userinfo's claims into the ID token's.</summary>
    Always,

    /// <summary>The ID token only.</summary>
    Never,
}

/// <summary>Bound from <c>Auth:Oidc</c>. Sign-in with an OpenID Connect provider (Keycloak, Entra ID, Okta…).</summary>
internal sealed class OidcSignInOptions
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

    /// <summary>
    /// The claim whose values are mapped to portal roles, e.g. <c>groups</c> (Okta, Keycloak), <c>roles</c> (Entra ID
    /// app roles) or a path into a JSON claim such as <c>realm_access.roles</c> (Keycloak's realm roles). One value, an
    /// array, or one claim per value.
    /// </summary>
    public string RoleClaim { get; set; } = "groups";

    /// <summary>
    /// Identity-provider value → portal role, e.g. <c>"qa-team": "QA"</c>. A value naming a portal role
    /// itself (e.g. an Entra app role "Developer") maps to that role without an entry here.
    /// </summary>
    public Dictionary<string, string> RoleMap { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public UnmappedUsers UnmappedUsers { get; set; } = UnmappedUsers.Viewer;

    /// <summary>
    /// Refresh the tokens this long before they expire, but never before half their lifetime has passed: 2-minute
    /// tokens are refreshed once a minute, hour-long ones at 55 minutes.
    /// </summary>
    public TimeSpan RefreshBefore { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The <c>prompt</c> sent with the sign-in request. Default: <c>consent</c> when <see cref="Scopes"/> asks for
    /// offline_access, since OpenID Connect Core (section 11) lets a provider ignore offline_access otherwise, and
    /// strict ones (and Google) then issue no refresh token. Empty sends none (Keycloak, Entra ID and Okta issue refresh
    /// tokens without it).
    /// </summary>
    public string? Prompt { get; set; }

    /// <summary>Extra parameters for the sign-in request, e.g. Google's <c>access_type=offline</c> (its way to a refresh token).</summary>
    public Dictionary<string, string> AuthorizationParameters { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Where name and role claims come from: the ID token, userinfo, or userinfo when the ID token lacks the role claim.</summary>
    public UserInfoClaims UserInfo { get; set; } = UserInfoClaims.Auto;

    /// <summary>How long to wait for the provider's discovery document at start and at sign-in before saying it is unreachable.</summary>
    public TimeSpan DiscoveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal string? EffectivePrompt =>
        Prompt ?? (Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("offline_access") ? "consent" : null);

    internal bool WantsUserInfo(System.Security.Claims.ClaimsIdentity fromIdToken) => UserInfo switch
    {
        UserInfoClaims.Always => true,
        UserInfoClaims.Never => false,
        _ => !fromIdToken.HasClaim(c => c.Type == RoleClaim || c.Type == RoleClaim.Split('.')[0]),
    };
}
