using DeployPortal.Web.Common;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Auth;

/// <summary>The development sign-in is for the embedded default only: never in Production, never beside OpenID Connect.</summary>
internal sealed class DevSignInOptionsValidator(IHostEnvironment environment, IOptions<OidcSignInOptions> oidc) : IValidateOptions<DevSignInOptions>
{
    public ValidateOptionsResult Validate(string? name, DevSignInOptions o) => new OptionRules(DevSignInOptions.Section)
        .Check(!o.Enabled || !environment.IsProduction(),
            "The development sign-in (Auth:DevSignIn:Enabled) is refused in Production. Configure OpenID Connect instead.")
        .Check(!o.Enabled || !oidc.Value.Enabled,
            "The development sign-in is for the embedded default only: turn it off (Auth:DevSignIn:Enabled=false) when OpenID Connect is on.")
        .Result();
}

internal sealed class OidcSignInOptionsValidator : IValidateOptions<OidcSignInOptions>
{
    public ValidateOptionsResult Validate(string? name, OidcSignInOptions o) => new OptionRules(OidcSignInOptions.Section)
        .Between(nameof(o.RefreshBefore), o.RefreshBefore, TimeSpan.Zero, TimeSpan.FromDays(1))
        .Between(nameof(o.DiscoveryTimeout), o.DiscoveryTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5))
        .Check(o.RoleMap.Values.All(r => PortalRoles.All.Contains(r, StringComparer.OrdinalIgnoreCase)),
            $"Every value of Auth:Oidc:RoleMap must be a portal role: {string.Join(", ", PortalRoles.All)}.")
        .Check(!o.Enabled || (Uri.TryCreate(o.Authority, UriKind.Absolute, out _) && !string.IsNullOrWhiteSpace(o.ClientId)),
            "Auth:Oidc:Authority (an absolute URL) and Auth:Oidc:ClientId are required when Auth:Oidc:Enabled is true.")
        .Check(!o.Enabled || !string.IsNullOrWhiteSpace(o.ClientSecret),
            "Auth:Oidc:ClientSecret is required when Auth:Oidc:Enabled is true: the portal signs in as a confidential client.")
        .Check(!o.Enabled || !o.RequireHttpsMetadata || (IsHttps(o.Authority) && (o.MetadataAddress is null || IsHttps(o.MetadataAddress))),
            "Auth:Oidc:Authority (or Auth:Oidc:MetadataAddress) is plain HTTP while Auth:Oidc:RequireHttpsMetadata is true. "
            + "Use the provider's https:// address, or set Auth:Oidc:RequireHttpsMetadata=false for a provider on a trusted network.")
        .Result();

    private static bool IsHttps(string? address) =>
        Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps;
}

internal sealed class SessionOptionsValidator : IValidateOptions<SessionOptions>
{
    public ValidateOptionsResult Validate(string? name, SessionOptions o) => new OptionRules(SessionOptions.Section)
        .Positive(nameof(o.MaxCircuitsPerUser), o.MaxCircuitsPerUser)
        .Between(nameof(o.RevalidateEvery), o.RevalidateEvery, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1))
        .Result();
}
