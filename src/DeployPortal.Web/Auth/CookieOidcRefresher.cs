using System.Globalization;
using System.IdentityModel.Tokens.Jwt;
using DeployPortal.Web.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace DeployPortal.Web.Auth;

/// <summary>
/// Refreshes the identity provider's tokens shortly before they expire, whenever the cookie is validated
/// (every HTTP request, including the one that opens a circuit). The refreshed ID token is validated like
/// the first one and mapped to portal roles again, so a person whose groups changed at the provider gets
/// the new role, and one the provider no longer accepts is signed out.
/// Follows <c>CookieOidcRefresher</c> from the ASP.NET Core Blazor OIDC sample.
/// </summary>
internal sealed class CookieOidcRefresher(
    IOptionsMonitor<OpenIdConnectOptions> oidcOptionsMonitor,
    IOptionsMonitor<OidcSignInOptions> signInOptions,
    SecurityAudit audit,
    ILogger<CookieOidcRefresher> logger)
{
    private readonly OpenIdConnectProtocolValidator _tokenValidator = new()
    {
        // A refresh response has no nonce to check; the ID token is still validated.
        RequireNonce = false,
    };

    public async Task ValidateOrRefreshCookieAsync(CookieValidatePrincipalContext context, string oidcScheme)
    {
        var expiresAtText = context.Properties.GetTokenValue("expires_at");
        if (!DateTimeOffset.TryParse(expiresAtText, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var expiresAt))
        {
            return; // not an OpenID Connect session (e.g. the development sign-in)
        }

        var oidcOptions = oidcOptionsMonitor.Get(oidcScheme);
        var options = signInOptions.CurrentValue;
        var now = oidcOptions.TimeProvider!.GetUtcNow();
        if (now + options.RefreshBefore < expiresAt)
        {
            return;
        }

        var refreshToken = context.Properties.GetTokenValue("refresh_token");
        if (string.IsNullOrEmpty(refreshToken))
        {
            await RejectAsync(context, "The session expired and the identity provider issued no refresh token.");
            return;
        }

        var ct = context.HttpContext.RequestAborted;
        var configuration = await oidcOptions.ConfigurationManager!.GetConfigurationAsync(ct);
        var tokenEndpoint = configuration.TokenEndpoint ?? throw new InvalidOperationException("The identity provider publishes no token endpoint.");

        using var response = await oidcOptions.Backchannel.PostAsync(tokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string?>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = oidcOptions.ClientId,
            ["client_secret"] = oidcOptions.ClientSecret,
            ["scope"] = string.Join(" ", oidcOptions.Scope),
            ["refresh_token"] = refreshToken,
        }), ct);
        if (!response.IsSuccessStatusCode)
        {
            await RejectAsync(context, $"The identity provider refused to refresh the session ({(int)response.StatusCode}).");
            return;
        }

        var message = new OpenIdConnectMessage(await response.Content.ReadAsStringAsync(ct));
        var parameters = oidcOptions.TokenValidationParameters.Clone();
        if (oidcOptions.ConfigurationManager is BaseConfigurationManager baseConfigurationManager)
        {
            parameters.ConfigurationManager = baseConfigurationManager;
        }
        else
        {
            parameters.ValidIssuer = configuration.Issuer;
            parameters.IssuerSigningKeys = configuration.SigningKeys;
        }

        var validation = await oidcOptions.TokenHandler.ValidateTokenAsync(message.IdToken, parameters);
        if (!validation.IsValid)
        {
            await RejectAsync(context, "The refreshed ID token was not valid.");
            return;
        }

        var idToken = JwtSecurityTokenConverter.Convert(validation.SecurityToken as JsonWebToken);
        idToken.Payload["nonce"] = null;
        _tokenValidator.ValidateTokenResponse(new OpenIdConnectProtocolValidationContext
        {
            ProtocolMessage = message,
            ClientId = oidcOptions.ClientId,
            ValidatedIdToken = idToken,
        });

        var decision = PortalSignIn.FromIdentityProvider(new System.Security.Claims.ClaimsPrincipal(validation.ClaimsIdentity), options);
        if (decision.Refused)
        {
            await RejectAsync(context, decision.Refusal!);
            return;
        }

        context.ShouldRenew = true;
        context.ReplacePrincipal(decision.Principal!);
        var expiresIn = int.Parse(message.ExpiresIn, NumberStyles.Integer, CultureInfo.InvariantCulture);
        context.Properties.StoreTokens(
        [
            new AuthenticationToken { Name = "access_token", Value = message.AccessToken },
            new AuthenticationToken { Name = "id_token", Value = message.IdToken },
            // Providers that do not rotate refresh tokens send none back; keep the one we have.
            new AuthenticationToken { Name = "refresh_token", Value = message.RefreshToken ?? refreshToken },
            new AuthenticationToken { Name = "token_type", Value = message.TokenType },
            new AuthenticationToken { Name = "expires_at", Value = (now + TimeSpan.FromSeconds(expiresIn)).ToString("o", CultureInfo.InvariantCulture) },
        ]);
        logger.LogDebug("Refreshed the session of {User}", decision.Name);
    }

    private async Task RejectAsync(CookieValidatePrincipalContext context, string reason)
    {
        var user = context.Principal;
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        await audit.RecordAsync(user?.FindFirst(PortalClaims.Subject)?.Value ?? "unknown", user?.Identity?.Name ?? "unknown",
            AuditActions.SessionEnded, reason);
    }
}
