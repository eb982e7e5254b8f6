using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace DeployPortal.Web.Auth;

/// <summary>Sign-in (GET, starts the OpenID Connect challenge) and sign-out (POST, with antiforgery).</summary>
internal static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/account/login", (string? returnUrl, IOptions<OidcSignInOptions> oidc) =>
            oidc.Value.Enabled
                ? Results.Challenge(new AuthenticationProperties { RedirectUri = SafeReturnUrl(returnUrl) }, [AuthExtensions.OidcScheme])
                : Results.LocalRedirect("/signin"))
            .AllowAnonymous();

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
