using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using DeployPortal.Web.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace DeployPortal.Web.Auth;

/// <summary>What a refresh attempt came to.</summary>
internal enum RefreshOutcome
{
    /// <summary>Nothing was due, or another request holds the refresh; the session goes on as it is.</summary>
    Unchanged,

    /// <summary>New tokens (and possibly new roles) were stored as the session's next version.</summary>
    Refreshed,

    /// <summary>The provider refused, or the tokens ran out with nothing to refresh them: the session is over.</summary>
    Ended,
}

/// <summary>
/// Keeps an OpenID Connect session's tokens fresh, from the server-side session record (<see cref="SessionStore"/>):
/// on a request (the cookie's validation) and for open pages (<see cref="SessionMonitor"/>), so a role changed at the
/// provider reaches a page that makes no requests.
/// <list type="bullet">
/// <item>Due half-way through the tokens' lifetime (or <c>RefreshBefore</c> ahead of the end), never before.</item>
/// <item>Single-flight per session, across concurrent requests and replicas: a lease on the session row, taken with
/// one conditional update of the version it read. Providers that rotate refresh tokens and revoke the whole grant when
/// a used one comes back (reuse detection) therefore never see one twice.</item>
/// <item>A provider that issued no refresh token gets none asked of it: the session lasts until its tokens expire.</item>
/// <item>The refreshed ID token is validated like the first; claims come from it and, when configured, from
/// userinfo; roles are mapped again, so a person removed from a group loses the role, and one the provider no longer
/// knows is signed out.</item>
/// </list>
/// </summary>
internal sealed class SessionRefresher(
    SessionStore sessions,
    IOptionsMonitor<OpenIdConnectOptions> oidcOptionsMonitor,
    IOptionsMonitor<OidcSignInOptions> signInOptions,
    TimeProvider clock,
    SecurityAudit audit,
    ILogger<SessionRefresher> logger)
{
    private static readonly TimeSpan LeaseFor = TimeSpan.FromSeconds(30);

    private readonly OpenIdConnectProtocolValidator _tokenValidator = new()
    {
        // A refresh response has no nonce to check; the ID token is still validated.
        RequireNonce = false,
    };

    /// <summary>The cookie handler's <c>OnValidatePrincipal</c>: every request of a signed-in browser.</summary>
    public async Task ValidatePrincipalAsync(CookieValidatePrincipalContext context)
    {
        var key = context.Principal?.FindFirst(PortalClaims.Session)?.Value;
        var expires = OidcTokens.ExpiresAt(context.Properties);
        if (key is null || expires is null)
        {
            return; // not an OpenID Connect session (the development sign-in)
        }

        var now = clock.GetUtcNow();
        var due = OidcTokens.RefreshAt(context.Properties);
        if (due is null ? now < expires : now < due)
        {
            return;
        }

        var (outcome, ticket) = await RefreshAsync(key, context.HttpContext.RequestAborted);
        switch (outcome)
        {
            case RefreshOutcome.Ended:
                context.RejectPrincipal();
                await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                break;
            case RefreshOutcome.Refreshed when ticket is not null:
                // The session claim is what lets open pages and actions check this session; the stored principal has none.
                ((ClaimsIdentity)ticket.Principal.Identity!).AddClaim(new Claim(PortalClaims.Session, key));
                context.ReplacePrincipal(ticket.Principal);
                context.Properties.StoreTokens(ticket.Properties.GetTokens());
                foreach (var item in ticket.Properties.Items)
                {
                    context.Properties.Items[item.Key] = item.Value;
                }

                context.ShouldRenew = true;
                break;
        }
    }

    /// <summary>
    /// Refreshes the session's tokens if they are due and nobody else is refreshing them. Returns the ticket as stored
    /// afterwards (null once the session ended).
    /// </summary>
    public async Task<(RefreshOutcome Outcome, AuthenticationTicket? Ticket)> RefreshAsync(string key, CancellationToken ct)
    {
        if (await sessions.ReadAsync(key, ct) is not var (ticket, version))
        {
            return (RefreshOutcome.Ended, null);
        }

        var now = clock.GetUtcNow();
        var refreshToken = ticket.Properties.GetTokenValue("refresh_token");
        if (string.IsNullOrEmpty(refreshToken))
        {
            if (OidcTokens.ExpiresAt(ticket.Properties) is { } expires && now >= expires)
            {
                await EndAsync(key, ticket.Principal, "The identity provider's tokens expired and it issued no refresh token.", ct);
                return (RefreshOutcome.Ended, null);
            }

            return (RefreshOutcome.Unchanged, ticket);
        }

        if (OidcTokens.RefreshAt(ticket.Properties) is { } due && now < due)
        {
            return (RefreshOutcome.Unchanged, ticket); // another request refreshed it meanwhile
        }

        if (!await sessions.TryLeaseRefreshAsync(key, version, LeaseFor, ct))
        {
            return (RefreshOutcome.Unchanged, ticket); // another request or replica is refreshing it right now
        }

        try
        {
            var refreshed = await RedeemAsync(ticket, refreshToken, now, ct);
            if (refreshed.Refusal is { } refusal)
            {
                await EndAsync(key, ticket.Principal, refusal, ct);
                return (RefreshOutcome.Ended, null);
            }

            if (!await sessions.ReplaceTicketAsync(key, version, refreshed.Ticket!, ct))
            {
                return (RefreshOutcome.Ended, null); // ended while we asked the provider
            }

            var (before, after) = (SessionCheck.RolesOf(ticket.Principal), SessionCheck.RolesOf(refreshed.Ticket!.Principal));
            if (before != after)
            {
                await audit.RecordAsync(refreshed.Ticket.Principal.FindFirst(PortalClaims.Subject)?.Value ?? "unknown",
                    refreshed.Ticket.Principal.Identity?.Name ?? "unknown", AuditActions.SignIn, $"role changed at the identity provider: {before} → {after}", ct);
            }

            logger.LogDebug("Refreshed the session of {User}", refreshed.Ticket.Principal.Identity?.Name);
            return (RefreshOutcome.Refreshed, refreshed.Ticket);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            // The provider is away: keep the session on its current tokens and try again on a later request.
            logger.LogWarning("Could not refresh the session of {User}; will try again: {Reason}", ticket.Principal.Identity?.Name, ex.Message);
            await sessions.ReleaseRefreshLeaseAsync(key, CancellationToken.None);
            return (RefreshOutcome.Unchanged, ticket);
        }
    }

    private sealed record Redeemed(AuthenticationTicket? Ticket, string? Refusal);

    private async Task<Redeemed> RedeemAsync(AuthenticationTicket ticket, string refreshToken, DateTimeOffset now, CancellationToken ct)
    {
        var oidcOptions = oidcOptionsMonitor.Get(AuthExtensions.OidcScheme);
        var options = signInOptions.CurrentValue;
        var configuration = await oidcOptions.ConfigurationManager!.GetConfigurationAsync(ct);
        var tokenEndpoint = configuration.TokenEndpoint ?? throw new InvalidOperationException("The identity provider publishes no token endpoint.");

        using var response = await oidcOptions.Backchannel.PostAsync(tokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string?>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = oidcOptions.ClientId,
            ["client_secret"] = oidcOptions.ClientSecret,
            ["refresh_token"] = refreshToken,
        }), ct);
        if ((int)response.StatusCode >= 500)
        {
            throw new HttpRequestException($"the token endpoint answered {(int)response.StatusCode}");
        }

        var message = new OpenIdConnectMessage(await response.Content.ReadAsStringAsync(ct));
        if (!response.IsSuccessStatusCode)
        {
            return new Redeemed(null, $"The identity provider refused to refresh the session ({(int)response.StatusCode} {message.Error}).");
        }

        // The ID token is optional in a refresh response; without one, the claims of the first stay.
        var identity = (ClaimsIdentity)ticket.Principal.Identity!;
        var external = new ClaimsIdentity(identity.Claims.Where(c => c.Type == PortalClaims.Subject), identity.AuthenticationType);
        if (!string.IsNullOrEmpty(message.IdToken))
        {
            var parameters = oidcOptions.TokenValidationParameters.Clone();
            parameters.ValidIssuer = configuration.Issuer;
            parameters.IssuerSigningKeys = configuration.SigningKeys;
            var validation = await oidcOptions.TokenHandler.ValidateTokenAsync(message.IdToken, parameters);
            if (!validation.IsValid)
            {
                return new Redeemed(null, "The refreshed ID token was not valid.");
            }

            var idToken = JwtSecurityTokenConverter.Convert(validation.SecurityToken as JsonWebToken);
            idToken.Payload["nonce"] = null;
            try
            {
                _tokenValidator.ValidateTokenResponse(new OpenIdConnectProtocolValidationContext
                {
                    ProtocolMessage = message,
                    ClientId = oidcOptions.ClientId,
                    ValidatedIdToken = idToken,
                });
            }
            catch (OpenIdConnectProtocolException ex)
            {
                return new Redeemed(null, $"The refresh response was not valid: {ex.Message}");
            }
            if (validation.ClaimsIdentity.FindFirst("sub")?.Value != identity.FindFirst(PortalClaims.Subject)?.Value)
            {
                return new Redeemed(null, "The refreshed ID token names another person.");
            }

            external = validation.ClaimsIdentity;
        }

        if (options.WantsUserInfo(external) && !string.IsNullOrEmpty(message.AccessToken))
        {
            await OidcTokens.AddUserInfoClaimsAsync(oidcOptions, configuration, message.AccessToken, external, ct);
        }

        var decision = PortalSignIn.FromIdentityProvider(new ClaimsPrincipal(external), options, logger);
        if (decision.Refused)
        {
            return new Redeemed(null, decision.Refusal);
        }

        var properties = ticket.Properties.Clone();
        var tokens = properties.GetTokens().ToDictionary(t => t.Name, t => t.Value);
        tokens["access_token"] = message.AccessToken;
        tokens["token_type"] = message.TokenType ?? tokens.GetValueOrDefault("token_type") ?? "Bearer";
        if (!string.IsNullOrEmpty(message.IdToken))
        {
            tokens["id_token"] = message.IdToken;
        }

        // Providers that do not rotate refresh tokens send none back; keep the one we have.
        tokens["refresh_token"] = string.IsNullOrEmpty(message.RefreshToken) ? refreshToken : message.RefreshToken;
        properties.StoreTokens(tokens.Select(t => new AuthenticationToken { Name = t.Key, Value = t.Value }));
        OidcTokens.Stamp(properties, now, OidcTokens.Lifetime(message.ExpiresIn, ticket.Properties, now), options.RefreshBefore);
        return new Redeemed(new AuthenticationTicket(decision.Principal!, properties, ticket.AuthenticationScheme), null);
    }

    private async Task EndAsync(string key, ClaimsPrincipal user, string reason, CancellationToken ct)
    {
        if (await sessions.EndAsync(key, reason, ct))
        {
            await audit.RecordAsync(user.FindFirst(PortalClaims.Subject)?.Value ?? "unknown", user.Identity?.Name ?? "unknown",
                AuditActions.SessionEnded, reason, ct);
        }
    }
}
