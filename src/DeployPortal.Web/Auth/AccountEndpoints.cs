using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace DeployPortal.Web.Auth;

/// <summary>Sign-in (GET, starts the OpenID Connect challenge) and sign-out (POST, with antiforgery).</summary>
internal static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/account/login", async (string? returnUrl, HttpContext http, IOptions<OidcSignInOptions> oidc,
            IOptionsMonitor<OpenIdConnectOptions> oidcOptions, ILogger<OidcSignInOptions> logger) =>
        {
            if (!oidc.Value.Enabled)
            {
                return Results.LocalRedirect("/signin");
            }

            try
            {
                // Asked here, with a short timeout, so an unreachable provider gets the portal's own page, not an exception.
                await OidcDiscovery.ReadAsync(oidcOptions.Get(AuthExtensions.OidcScheme), oidc.Value, http.RequestAborted);
            }
            catch (InvalidOperationException ex)
            {
                logger.LogWarning("Sign-in could not start (request {RequestId}): {Reason}", http.TraceIdentifier, ex.Message);
                return Results.LocalRedirect($"/signin?error=sso-unavailable&request={Uri.EscapeDataString(http.TraceIdentifier)}");
            }

            try
            {
                // Providers that offer pushed authorization requests (PAR) are called here already, so a refused client
                // fails now, before any redirect: the portal's own page, not an exception.
                await http.ChallengeAsync(AuthExtensions.OidcScheme, new AuthenticationProperties { RedirectUri = SafeReturnUrl(returnUrl) });
                return Results.Empty;
            }
            catch (Exception ex) when (ex is OpenIdConnectProtocolException or HttpRequestException or InvalidOperationException && !http.Response.HasStarted)
            {
                OidcFailures.Log(http, ex);
                return Results.LocalRedirect($"/signin?error=sso-failed&request={Uri.EscapeDataString(http.TraceIdentifier)}");
            }
        }).AllowAnonymous();

        endpoints.MapPost("/account/signout", async (HttpContext http, IAntiforgery antiforgery, IOptions<OidcSignInOptions> oidc) =>
        {
            // No form field is bound here, so minimal APIs would not check the token by themselves.
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Results.BadRequest();
            }

            var properties = new AuthenticationProperties { RedirectUri = "/signin?signedout=1" };
            var fromIdentityProvider = (await http.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme))
                .Properties?.GetTokenValue("id_token") is not null;
            if (oidc.Value.Enabled && fromIdentityProvider)
            {
                // RP-initiated logout: the provider ends its own session too (with our ID token as the hint),
                // then returns to /signout-callback-oidc, which lands on RedirectUri.
                return Results.SignOut(properties, [CookieAuthenticationDefaults.AuthenticationScheme, AuthExtensions.OidcScheme]);
            }

            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.LocalRedirect(properties.RedirectUri);
        }).AllowAnonymous();

        return endpoints;
    }

    /// <summary>Only same-site paths: "/x" but never "//evil.example" or "/\evil.example".</summary>
    public static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl[0] == '/' && (returnUrl.Length == 1 || (returnUrl[1] != '/' && returnUrl[1] != '\\'))
            ? returnUrl
            : "/";
}
